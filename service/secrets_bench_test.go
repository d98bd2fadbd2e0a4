package service_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/internal/testenv"
	"github.com/gatehouse-iam/gatehouse/service"
)

// BenchmarkBatchDecrypt decrypts a batch of 100 secrets of one stack
// through the service, as `pulumi preview` does for a stack's config: the
// data key is cached after the first call; each call is audited in a
// transaction of its own.
func BenchmarkBatchDecrypt(b *testing.B) {
	e, st, sealed := decryptBench(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Svc.Decrypt(ctx, st, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatchDecryptParallel is BenchmarkBatchDecrypt from concurrent
// callers (previews of many stacks at once): their audit events share
// SQLite's group commits.
func BenchmarkBatchDecryptParallel(b *testing.B) {
	e, st, sealed := decryptBench(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Svc.Decrypt(ctx, st, sealed); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// decryptBench is a stack and 100 of its secrets, sealed.
func decryptBench(b *testing.B) (*testenv.Env, *gatehouse.Stack, [][]byte) {
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
	return e, st, sealed
}
