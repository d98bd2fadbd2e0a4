package service_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// BenchmarkBatchDecrypt decrypts a batch of 100 secrets of one stack
// through the service, as `pulumi preview` does for a stack's config: the
// data key is cached after the first call.
func BenchmarkBatchDecrypt(b *testing.B) {
	e := testenv.New(b)
	ctx := context.Background()
	st, err := e.Svc.CreateStack(ctx, e.Org.ID, e.Identity(b, e.Admin), service.StackInput{Project: "app", Name: "dev"})
	if err != nil {
		b.Fatal(err)
	}
	plain := make([][]byte, 100)
	for i := range plain {
		plain[i] = []byte(fmt.Sprintf("secret-value-%d", i))
	}
	sealed, err := e.Svc.Encrypt(ctx, st, plain)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Svc.Decrypt(ctx, st, sealed); err != nil {
			b.Fatal(err)
		}
	}
}
