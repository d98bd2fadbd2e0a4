package store_test

import (
	"testing"

	"github.com/gatehouse-iam/gatehouse"
)

// BenchmarkQuotaCheck is a quota check as a create makes it: the
// organization's lock, then its stacks and tokens counts, in the large
// organization (10,000 stacks, 50,000 tokens) and in an empty one of the
// same database. The counters make both the same cost.
func BenchmarkQuotaCheck(b *testing.B) {
	dialects(b, func(b *testing.B, dialect string) {
		s := seedLarge(b, dialect)
		small := &gatehouse.Organization{Name: "small-" + b.Name()[len(b.Name())-6:]}
		if err := s.db.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateOrg(ctx, small) }); err != nil {
			b.Fatal(err)
		}
		for _, org := range []*gatehouse.Organization{s.org, small} {
			b.Run(map[bool]string{true: "large", false: "empty"}[org == s.org], func(b *testing.B) {
				for b.Loop() {
					err := s.db.Write(ctx, func(tx gatehouse.Tx) error {
						if err := tx.LockOrg(ctx, org.ID); err != nil {
							return err
						}
						for _, kind := range []string{"stacks", "tokens"} {
							if _, err := tx.CountOrg(ctx, org.ID, kind); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
}
