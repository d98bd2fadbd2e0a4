// The console in a real browser: sign in; create a permission set; create a
// role with a tag rule; create an organization token with that role and use
// it against the API (allowed on a matching stack, denied on another); find
// the denial in the audit log; create a team and find it on the teams page;
// sign out. A screenshot of each page is saved.
//
//   GATEHOUSE_URL=http://127.0.0.1:8080 GATEHOUSE_TOKEN=pul-... SCREENSHOTS=dir node console.mjs
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";

const base = process.env.GATEHOUSE_URL;
const admin = process.env.GATEHOUSE_TOKEN;
const shots = process.env.SCREENSHOTS || "screenshots";
assert.ok(base && admin, "GATEHOUSE_URL and GATEHOUSE_TOKEN are required");
mkdirSync(shots, { recursive: true });

async function api(token, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: "token " + token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const cspViolations = [];
page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
const shot = async (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
const step = (s) => console.log("--", s);

try {
  step("sign in");
  await page.goto(base + "/console/");
  assert.match(page.url(), /\/console\/login/);
  await shot("01-sign-in");
  await page.getByLabel("Personal access token").fill(admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/console\/acme\/$/);
  await page.getByRole("heading", { name: "Organization settings" }).waitFor();
  await shot("02-overview");

  step("create a permission set");
  await page.getByRole("link", { name: "Permissions", exact: true }).first().click();
  await shot("03-permissions");
  await page.getByRole("link", { name: "New permission set" }).click();
  await page.getByLabel("Name", { exact: true }).fill("Deployer");
  await page.getByLabel("Description").fill("Reads stacks and runs their updates");
  // The scope filter is JavaScript's; the checkboxes work without it.
  await page.getByLabel("Filter scopes").fill("stack:");
  await page.getByRole("checkbox", { name: /stack:read\b/ }).check();
  await page.getByRole("checkbox", { name: /stack:write\b/ }).check();
  await shot("04-permission-set-editor");
  await page.getByRole("button", { name: "Save permission set" }).click();
  await page.getByText('Saved permission set "Deployer".').waitFor();

  step("create a role with a tag rule");
  await page.getByRole("link", { name: "Roles", exact: true }).first().click();
  await shot("05-roles");
  await page.getByRole("link", { name: "New role" }).click();
  await page.getByLabel("Name", { exact: true }).fill("dev-deployer");
  await page.getByLabel("Description").fill("Deploys the stacks tagged env=dev");
  const rule = page.getByRole("group", { name: "Rule 1" });
  await rule.getByLabel("Kind").selectOption("tag");
  await rule.getByLabel("Entity type").selectOption("stack");
  await rule.getByLabel("Tag", { exact: true }).fill("env");
  await rule.getByLabel("Test").first().selectOption("eq");
  await rule.getByLabel("Value").first().fill("dev");
  await rule.getByLabel("Grants").selectOption({ label: "Deployer (stack)" });
  await shot("06-role-editor");
  await page.getByRole("button", { name: "Save role" }).click();
  await page.getByText('Saved role "dev-deployer".').waitFor();
  assert.equal(await page.getByRole("group", { name: "Rule 1" }).getByLabel("Value").first().inputValue(), "dev");
  await shot("07-role");

  step("create an organization token with that role");
  await page.getByRole("link", { name: "Access tokens" }).first().click();
  await page.getByLabel("Name", { exact: true }).fill("deploy-bot");
  await page.getByLabel("Description").first().fill("CI deployments of dev");
  await page.getByLabel("Role").selectOption({ label: "dev-deployer" });
  await page.getByLabel("Expires").first().selectOption("90");
  await page.getByRole("button", { name: "Create organization token" }).click();
  const value = await page.getByLabel("Token value").inputValue();
  assert.match(value, /^pul-[0-9a-f]{40}$/);
  await page.getByRole("button", { name: "Copy" }).click();
  await shot("08-token-created");

  step("use it against the API");
  for (const [name, env] of [["dev", "dev"], ["prod", "prod"]]) {
    const r = await api(admin, "POST", "/api/stacks/acme/app", { stackName: name, tags: { env } });
    assert.equal(r.status, 200, `create stack ${name}: ${JSON.stringify(r.body)}`);
  }
  const allowed = await api(value, "POST", "/api/stacks/acme/app/dev/update", { name: "app" });
  assert.equal(allowed.status, 200, "the token may update the dev stack: " + JSON.stringify(allowed.body));
  const denied = await api(value, "POST", "/api/stacks/acme/app/prod/update", { name: "app" });
  assert.equal(denied.status, 404, "the token may not even see the prod stack");

  step("find the denial in the audit log");
  await page.getByRole("link", { name: "Audit log" }).first().click();
  await page.getByLabel("Event").selectOption("access_denied");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("cell", { name: /denied POST \/api\/stacks\/acme\/app\/prod\/update/ }).first().waitFor();
  await shot("09-audit-log");

  step("the other pages");
  await page.getByRole("link", { name: "Access explorer" }).first().click();
  await page.getByLabel("Scope").fill("stack:write");
  await page.getByLabel("Entity type").selectOption("stack");
  await page.getByLabel(/^Entity \(/).fill("app/dev");
  await page.getByLabel(/A token/).fill(value);
  await page.getByRole("button", { name: "Explain" }).click();
  await page.getByText("Allowed").first().waitFor();
  assert.ok(!page.url().includes(value), "the token never goes into a URL");
  await shot("10-access-explorer");
  await page.goto(base + "/console/acme/teams");
  await page.getByLabel("Name", { exact: true }).fill("ops");
  await page.getByLabel("Display name").fill("Operations");
  await page.getByLabel("Description").fill("Runs production");
  await page.getByRole("button", { name: "Create team" }).click();
  await page.getByText("Team created.").waitFor();
  await page.getByText("Runs production").waitFor();
  await page.goto(base + "/console/acme/teams");
  await page.getByRole("cell", { name: "Operations" }).waitFor();
  await shot("11-teams");
  await page.goto(base + "/console/acme/members");
  await page.getByRole("cell", { name: "admin", exact: true }).first().waitFor();
  await shot("12-members");
  await page.goto(base + "/console/acme/oidc");
  await shot("13-oidc");
  // A narrow screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + "/console/acme/tokens");
  await shot("14-tokens-narrow");
  await page.setViewportSize({ width: 1280, height: 900 });

  step("sign out");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/console\/login/);
  await page.getByText("Signed out.").waitFor();
  await page.goto(base + "/console/acme/roles");
  assert.match(page.url(), /\/console\/login/, "a signed-out browser is sent to sign in");

  assert.deepEqual(cspViolations, [], "no Content-Security-Policy violations");
  console.log("console e2e: ok");
} catch (e) {
  await shot("failure").catch(() => {});
  throw e;
} finally {
  await browser.close();
}
