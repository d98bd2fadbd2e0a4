package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// bigDeployment is an untyped deployment of about size bytes: resources
// with properties, as a real state holds.
func bigDeployment(size int) []byte {
	var rs []map[string]any
	n := 0
	for i := 0; n < size; i++ {
		r := map[string]any{"urn": fmt.Sprintf("urn:pulumi:dev::app::aws:s3/bucket:Bucket::bucket-%d", i), "type": "aws:s3/bucket:Bucket",
			"custom": true, "id": fmt.Sprintf("bucket-%d-4f2a", i),
			"inputs":  map[string]any{"acl": "private", "tags": map[string]string{"env": "dev", "team": "core"}, "bucket": fmt.Sprintf("bucket-%d", i)},
			"outputs": map[string]any{"arn": fmt.Sprintf("arn:aws:s3:::bucket-%d", i), "region": "us-west-2", "website": strings.Repeat("x", 200)}}
		b, _ := json.Marshal(r)
		n += len(b)
		rs = append(rs, r)
	}
	out, _ := json.Marshal(map[string]any{"version": 3, "deployment": map[string]any{"manifest": map[string]any{"version": "v3.274.1"}, "resources": rs}})
	return out
}

// BenchmarkCheckpoint1MB patches a running update's checkpoint with a 1 MB
// deployment over HTTP on loopback, as the CLI's checkpointverbatim does:
// the lease checked, the JSON read and checked, the version written in one
// SQLite transaction.
func BenchmarkCheckpoint1MB(b *testing.B) {
	e := newEnv(b)
	e.newStack(e.admin, "app", "dev", nil)
	u := e.begin(e.admin, "app", "dev", "update")
	data := bigDeployment(1 << 20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := fmt.Sprintf(`{"version":3,"sequenceNumber":%d,"untypedDeployment":%s}`, i+1, data)
		if status, out := e.call(u.auth, "PATCH", stackPath("app", "dev", "update", u.id, "checkpointverbatim"), body, nil); status != 204 {
			b.Fatalf("checkpoint: %d %s", status, out)
		}
	}
}

// BenchmarkListStacks10k lists 10,000 stacks through GET /api/user/stacks,
// every page, as a token that may read the 5,000 tagged env=dev: each
// stack decided on its tags.
func BenchmarkListStacks10k(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	org := e.orgID()
	err := e.db.Write(ctx, func(tx gatehouse.Tx) error {
		for i := 0; i < 10000; i++ {
			env := "dev"
			if i%2 == 1 {
				env = "prod"
			}
			if err := tx.CreateStack(ctx, &gatehouse.Stack{OrgID: org, Project: "app", Name: fmt.Sprintf("s%05d", i), Tags: map[string]string{"env": env}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := e.az.Refresh(ctx, org); err != nil {
		b.Fatal(err)
	}
	sets := e.roles("set")
	role := e.customRole("dev-reader", map[string]any{"__type": "PermissionDescriptorCondition",
		"condition": map[string]any{"__type": "PermissionExpressionEqual",
			"left":  map[string]any{"__type": "PermissionExpressionTag", "context": map[string]any{"__type": "PermissionExpressionStack"}, "key": "env"},
			"right": map[string]any{"__type": "PermissionLiteralExpressionString", "value": "dev"}},
		"subNode": map[string]any{"__type": "PermissionDescriptorCompose", "permissionDescriptors": []string{sets["Stack Read"].ID}}})
	token := e.orgToken("dev-reader", role)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, next := 0, ""
		for {
			var page struct {
				Stacks            []struct{ StackName string }
				ContinuationToken string
			}
			path := "/api/user/stacks?organization=acme"
			if next != "" {
				path += "&continuationToken=" + next
			}
			e.must(token, "GET", path, nil, 200, &page)
			n += len(page.Stacks)
			if next = page.ContinuationToken; next == "" {
				break
			}
		}
		if n != 5000 {
			b.Fatalf("listed %d stacks, want 5000", n)
		}
	}
}

// BenchmarkCreateStacksParallel creates stacks through POST
// /api/stacks/{org}/{project} over HTTP on loopback, 8 clients at once
// (4 per core on 2 cores), as the admin: the seeding script's bulk
// phase in process, so that the server's side can be profiled.
func BenchmarkCreateStacksParallel(b *testing.B) {
	e := newEnv(b)
	var n atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			body := fmt.Sprintf(`{"stackName":"s%d","tags":{"team":"team-%d","env":"prod"}}`, i, i%50)
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/stacks/acme/p%d", e.srv.URL, i%100), strings.NewReader(body))
			req.Header.Set("Authorization", "token "+e.admin)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("create: %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "stacks/s")
}
