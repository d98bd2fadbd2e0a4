// The console in a real browser: sign in; create a permission set; create a
// role with a tag rule; create an organization token with that role and use
// it against the API (allowed on a matching stack, denied on another); find
// the denial in the audit log, then the reads (a stack export) under the
// log's class filter and in its export; create a team and find it on the
// teams page; an issuer's page with its claims test; the invitations page;
// browse the stacks (filtered by tag), a stack with its outputs, updates and
// Access tab, the environments, one with its secret sealed and its Access
// tab, the Insights accounts, one tagged here and its Access tab; an unknown
// URL's page; then, as a Reader, the same pages with the controls of what a
// Reader may not do disabled and the missing scope as their tooltip; sign
// out. Every page is checked with axe-core (no serious or critical
// violation) and a screenshot of each is saved.
//
//   GATEHOUSE_URL=http://127.0.0.1:8080 GATEHOUSE_TOKEN=pul-... SCREENSHOTS=dir \
//   [GATEHOUSE_BIN=path/to/gatehouse GATEHOUSE_DATABASE=path/to/g.db] node console.mjs
//
// With GATEHOUSE_BIN and GATEHOUSE_DATABASE (the running server's binary
// and SQLite file), the Reader's part runs too: the Reader's personal
// token is issued with `gatehouse admin issue-token`, as no API mints a
// token for another user.
import { chromium } from "playwright-core";
import { AxeBuilder } from "@axe-core/playwright";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync } from "node:fs";
import { gunzipSync } from "node:zlib";

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
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
const cspViolations = [];
const watchCSP = (p) => p.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
watchCSP(page);
const a11y = [];
const axeRuns = { pages: 0, passes: 0, minor: [] };
// shot saves a screenshot of the page and checks it with axe-core (WCAG
// 2.1 A and AA): serious and critical violations are collected, and fail
// the run at the end.
const shot = async (name, p = page) => {
  await p.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
  const res = await new AxeBuilder({ page: p }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  axeRuns.pages++;
  axeRuns.passes += res.passes.length;
  for (const v of res.violations) {
    const line = `${name}: ${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`;
    (v.impact === "serious" || v.impact === "critical" ? a11y : axeRuns.minor).push(line);
  }
};
const step = (s) => console.log("--", s);

try {
  step("sign in");
  await page.goto(base + "/console/");
  assert.match(page.url(), /\/console\/login/);
  await shot("01-sign-in");
  await page.getByLabel("Personal access token").fill(admin);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/console\/acme\/$/);
  await page.getByRole("heading", { name: "Overview" }).waitFor();
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

  step("audit classes: reads only when asked, kept by the export");
  await must(admin, "GET", "/api/stacks/acme/app/dev/export"); // a read: stack_exported
  await page.getByRole("link", { name: "Audit log" }).first().click();
  await page.waitForURL(/\/audit$/);
  assert.equal(await page.getByLabel("Class").inputValue(), "change", "changes are the audit page's default class");
  await page.getByRole("cell", { name: "access_denied", exact: true }).first().waitFor();
  assert.equal(await page.getByRole("cell", { name: "stack_exported", exact: true }).count(), 0, "reads are left out by default");
  await page.getByLabel("Class").selectOption("read");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("cell", { name: "stack_exported", exact: true }).first().waitFor();
  assert.equal(await page.getByLabel("Class").inputValue(), "read", "the chosen class stays selected");
  assert.equal(await page.getByRole("cell", { name: "access_denied", exact: true }).count(), 0, "reads only");
  const exported = await page.getByRole("link", { name: "Export these events (CSV)" }).getAttribute("href");
  assert.match(exported, /^\/console\/acme\/audit\/export\?.*class=read/, "the export keeps the class");
  const csv = await page.request.get(base + exported); // the session's cookie, as a click sends it
  assert.equal(csv.status(), 200, "the console's export: " + await csv.text());
  assert.equal(csv.headers()["content-type"], "application/gzip");
  const rows = gunzipSync(await csv.body()).toString();
  assert.ok(rows.includes(",stack_exported,") && !rows.includes(",access_denied,"), "the export holds the reads only:\n" + rows);
  await shot("30-audit-reads");

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
  await shot("25-team");
  await page.getByText("Runs production").waitFor();
  await page.goto(base + "/console/acme/teams");
  await page.getByRole("cell", { name: "Operations" }).waitFor();
  await shot("11-teams");
  await page.goto(base + "/console/acme/members");
  await page.getByRole("cell", { name: "admin", exact: true }).first().waitFor();
  await shot("12-members");
  await page.goto(base + "/console/acme/oidc");
  await shot("13-oidc");
  // An issuer registered with its key set (nothing is fetched), its policy
  // and the claims test.
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" };
  const iss = await must(admin, "POST", "/api/orgs/acme/oidc/issuers", { name: "gh-actions", url: "https://ci.example.test", jwks: { keys: [jwk] } });
  await page.goto(base + "/console/acme/oidc/" + iss.id);
  await page.getByLabel(/Test these claims/).fill('{"sub":"repo:acme/app:ref:refs/heads/main"}');
  await page.getByRole("button", { name: "Test" }).click();
  await page.getByText('deny:').waitFor();
  await shot("26-issuer");
  await page.goto(base + "/console/-/invites");
  await shot("27-invitations");
  // A narrow screen.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + "/console/acme/tokens");
  await shot("14-tokens-narrow");
  await page.setViewportSize({ width: 1280, height: 900 });

  await entityPages(value);
  await unknownPage();
  await readerPages();

  step("sign out");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/console\/login/);
  await page.getByText("Signed out.").waitFor();
  await page.goto(base + "/console/acme/roles");
  assert.match(page.url(), /\/console\/login/, "a signed-out browser is sent to sign in");

  assert.deepEqual(cspViolations, [], "no Content-Security-Policy violations");
  assert.deepEqual(a11y, [], "no serious or critical accessibility violations");
  assert.ok(axeRuns.pages >= 20 && axeRuns.passes > 0, `axe-core checked ${axeRuns.pages} pages`);
  console.log(`axe-core: ${axeRuns.pages} pages, ${axeRuns.passes} rule passes, no serious or critical violation`);
  for (const m of axeRuns.minor) console.log("axe-core (minor or moderate):", m);
  console.log("console e2e: ok");
} catch (e) {
  await shot("failure").catch(() => {});
  throw e;
} finally {
  await browser.close();
}

// must calls the API and fails on anything but a 2xx.
async function must(token, method, path, body) {
  const r = await api(token, method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

// entityPages makes a stack's deployment (outputs, one of them secret),
// an environment with a secret and an Insights account, then browses
// their pages.
async function entityPages() {
  step("stacks, environments and Insights accounts");
  await must(admin, "POST", "/api/stacks/acme/app/dev/tags", { name: "team", value: "web" });
  await must(admin, "POST", "/api/stacks/acme/app/dev/import", { version: 3, deployment: {
    manifest: { time: new Date().toISOString(), magic: "", version: "" },
    resources: [{ urn: "urn:pulumi:dev::app::pulumi:pulumi:Stack::app-dev", custom: false, type: "pulumi:pulumi:Stack",
      outputs: { url: "https://dev.app.example", dbPassword: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:sealed" } } }],
  } });
  await must(admin, "POST", "/api/esc/environments/acme", { project: "app", name: "dev" });
  const yaml = "values:\n  region: eu-west-1\n  dbPassword:\n    fn::secret: hunter2\n";
  const r = await fetch(base + "/api/esc/environments/acme/app/dev", { method: "PATCH", body: yaml,
    headers: { Authorization: "token " + admin, "Content-Type": "application/x-yaml" } });
  assert.equal(r.status, 200, "define app/dev: " + await r.text());
  await must(admin, "POST", "/api/esc/environments/acme/app/dev/tags", { name: "env", value: "dev" });
  await must(admin, "POST", "/api/preview/insights/acme/accounts/aws-dev", { provider: "aws", environment: "app/dev" });
  await must(admin, "PUT", "/api/preview/insights/acme/accounts/aws-dev/tags", { tags: { env: "dev", owner: "platform" } });

  await page.getByRole("link", { name: "Stacks", exact: true }).first().click();
  await page.getByRole("link", { name: "app/prod" }).waitFor();
  await page.getByLabel("Tag", { exact: true }).fill("env=dev");
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("link", { name: "app/dev" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "app/prod" }).count(), 0, "the tag filter keeps app/prod out");
  await shot("15-stacks");
  await page.getByRole("link", { name: "app/dev" }).click();
  await page.getByRole("heading", { name: "app/dev" }).waitFor();
  await page.getByText("dbPassword", { exact: true }).waitFor();
  assert.equal(await page.getByText("v1:sealed").count(), 0, "no output value is shown");
  await page.getByRole("cell", { name: "import" }).first().waitFor();
  await shot("16-stack");
  await page.getByRole("link", { name: "Access", exact: true }).click();
  await page.getByRole("rowheader", { name: "token deploy-bot" }).waitFor();
  await page.getByText('stack.tags["env"] == "dev"').first().waitFor();
  await shot("17-stack-access");

  await page.getByRole("link", { name: "Environments", exact: true }).first().click();
  await page.getByRole("link", { name: "app/dev" }).waitFor();
  await shot("28-environments");
  await page.getByRole("link", { name: "app/dev" }).click();
  await page.getByText("region: eu-west-1").waitFor();
  assert.equal(await page.getByText("hunter2").count(), 0, "the environment's secret stays sealed");
  await shot("18-environment");
  await page.getByRole("link", { name: "Access", exact: true }).click();
  await page.getByRole("rowheader", { name: "user admin" }).waitFor();
  await shot("19-environment-access");

  await page.getByRole("link", { name: "Insights accounts", exact: true }).first().click();
  await page.getByRole("link", { name: "aws-dev" }).waitFor();
  await shot("20-accounts");
  await page.getByRole("link", { name: "aws-dev" }).click();
  await page.getByLabel("Tag", { exact: true }).fill("cost-center");
  await page.getByLabel("Value", { exact: true }).fill("42");
  await page.getByRole("button", { name: "Add tag" }).click();
  await page.getByText("Tagged cost-center=42.").waitFor();
  await shot("21-account");
  await page.getByRole("link", { name: "Access", exact: true }).click();
  await page.getByRole("rowheader", { name: "user admin" }).waitFor();
  await shot("29-account-access");
}

async function unknownPage() {
  step("an unknown URL");
  const res = await page.goto(base + "/console/acme/no-such-page");
  assert.equal(res.status(), 404);
  await page.getByRole("heading", { name: "Page not found" }).waitFor();
  await page.getByRole("link", { name: "Stacks", exact: true }).waitFor();
  await shot("22-not-found");
}

// readerPages signs a Reader in, in a context of their own, and checks
// that the controls of what a Reader may not do are disabled with the
// missing scope as their tooltip.
async function readerPages() {
  const bin = process.env.GATEHOUSE_BIN, db = process.env.GATEHOUSE_DATABASE;
  if (!bin || !db) {
    console.log("-- a Reader's pages: skipped (set GATEHOUSE_BIN and GATEHOUSE_DATABASE)");
    return;
  }
  step("a Reader's pages");
  await must(admin, "POST", "/api/orgs/acme/members/rex", { role: "reader" });
  const token = execFileSync(bin, ["admin", "issue-token", "--database", db, "--org", "acme", "--user", "rex"], { encoding: "utf8" })
    .match(/pul-[0-9a-f]{40}/)[0];
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  watchCSP(p);
  // The server reads tokens written by the host command on its next poll
  // (every 500ms by default); each early try is one failed sign-in.
  for (let i = 0; ; i++) {
    await p.waitForTimeout(600);
    await p.goto(base + "/console/login");
    await p.getByLabel("Personal access token").fill(token);
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.waitForLoadState();
    if (!/\/console\/login/.test(p.url())) break;
    assert.ok(i < 10, "the Reader could not sign in");
  }
  await p.getByRole("heading", { name: "Overview" }).waitFor();
  await p.goto(base + "/console/acme/roles");
  const newRole = p.getByText("New role");
  assert.equal(await newRole.getAttribute("aria-disabled"), "true", "a Reader's New role is disabled");
  assert.match(await newRole.getAttribute("title"), /role:create/);
  await shot("23-reader-roles", p);
  await p.goto(base + "/console/acme/stacks/app/dev");
  const add = p.getByRole("button", { name: "Add tag" });
  assert.ok(await add.isDisabled(), "a Reader's Add tag is disabled");
  assert.ok(await p.getByRole("button", { name: "Delete this stack" }).isDisabled(), "a Reader's Delete is disabled");
  assert.match(await p.locator("fieldset[disabled]").first().getAttribute("title"), /stack_tags:update/);
  await shot("24-reader-stack", p);
  await p.goto(base + "/console/acme/stacks/app/dev/access");
  await p.getByText("org_member_access:read").first().waitFor();
  await ctx.close();
}
