package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// BenchmarkCheckEndpoint: POST /api/orgs/{org}/authz/check with one
// allowed check per request, over loopback with parallel keep-alive
// clients, for a token of a flat role and one of a role of 51 rules,
// beside a bare net/http handler that decodes the same JSON and writes a
// fixed answer (the ceiling): compare their ns/op.
func BenchmarkCheckEndpoint(b *testing.B) {
	e := newEnv(b)
	ctx := b.Context()
	flat := `{"__type":"PermissionDescriptorAllow","permissions":["stack:read","stack:write"]}`
	rules := make([]string, 0, 51)
	for i := range 50 {
		rules = append(rules, fmt.Sprintf(`{"__type":"PermissionDescriptorCondition","condition":{"__type":"PermissionExpressionEqual",`+
			`"left":{"__type":"PermissionExpressionTag","context":{"__type":"PermissionExpressionStack"},"key":"team"},`+
			`"right":{"__type":"PermissionLiteralExpressionString","value":"team-%d"}},"subNode":{"__type":"PermissionDescriptorAllow","permissions":["stack:write"]}}`, i))
	}
	rules = append(rules, `{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`)
	big := `{"__type":"PermissionDescriptorGroup","entries":[` + join(rules) + `]}`
	var org *gatehouse.Organization
	if err := e.db.Read(ctx, func(tx gatehouse.Tx) (err error) { org, err = tx.GetOrgByName(ctx, e.org); return err }); err != nil {
		b.Fatal(err)
	}
	token := func(name, details string) string {
		s := func(v string) *string { return &v }
		role, err := e.svc.CreateDescriptor(ctx, org.ID, service.DescriptorInput{Name: s(name), Purpose: s("role"), Details: json.RawMessage(details)}, false)
		if err != nil {
			b.Fatal(err)
		}
		_, value, err := e.svc.CreateToken(ctx, service.TokenInput{Kind: gatehouse.TokenOrganization, OrgID: role.OrgID, Name: name, RoleID: role.ID})
		if err != nil {
			b.Fatal(err)
		}
		return value
	}
	body := func(tok string) []byte {
		data, _ := json.Marshal(wire.CheckRequest{Checks: []gatehouse.CheckRequest{{Token: tok, Scope: "stack:read",
			Entity: gatehouse.CheckEntity{Type: "stack", Project: "p", Name: "s"}}}})
		return data
	}
	if err := e.db.Write(ctx, func(tx gatehouse.Tx) error {
		return tx.CreateStack(ctx, &gatehouse.Stack{OrgID: org.ID, Project: "p", Name: "s", Tags: map[string]string{"team": "team-7"}})
	}); err != nil {
		b.Fatal(err)
	}
	if err := e.az.Refresh(ctx, org.ID); err != nil {
		b.Fatal(err)
	}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in wire.CheckRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"results":[{"allowed":true,"reason":"allowed"}]}`))
	}))
	defer bare.Close()
	run := func(b *testing.B, url, auth string, data []byte) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(data))
				req.Header.Set("Authorization", "token "+auth)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`"allowed":true`)) {
					b.Fatalf("%d %s", resp.StatusCode, out)
				}
			}
		})
	}
	check := e.srv.URL + "/api/orgs/" + e.org + "/authz/check"
	b.Run("bare", func(b *testing.B) { run(b, bare.URL, e.admin, body(e.admin)) })
	flatBody, bigBody := body(token("flat", flat)), body(token("rules51", big))
	b.Run("check/flat", func(b *testing.B) { run(b, check, e.admin, flatBody) })
	b.Run("check/rules51", func(b *testing.B) { run(b, check, e.admin, bigBody) })
}

func join(xs []string) string {
	var b bytes.Buffer
	for i, x := range xs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(x)
	}
	return b.String()
}
