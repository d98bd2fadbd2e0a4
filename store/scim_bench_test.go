package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/store"
)

// benchSCIMUsers is the size of the organization an identity provider
// provisions in the SCIM benchmarks.
const benchSCIMUsers = 10000

// seedSCIM fills a database with an organization managing benchSCIMUsers
// provisioned members, each with an externalId, once per dialect.
func seedSCIM(b *testing.B, dialect string) *seeded {
	return seedOnce(b, "scim", dialect, func(db *store.DB) *seeded { return fillSCIM(b, db) })
}

func fillSCIM(b *testing.B, db *store.DB) *seeded {
	s := &seeded{db: db, org: &gatehouse.Organization{Name: "provisioned"}}
	role := &gatehouse.Descriptor{Name: "Member", Purpose: gatehouse.PurposeRole, Details: []byte(`{"__type":"PermissionDescriptorAllow","permissions":["stack:read"]}`)}
	err := db.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.CreateOrg(ctx, s.org); err != nil {
			return err
		}
		role.OrgID = s.org.ID
		return tx.CreateDescriptor(ctx, role)
	})
	if err != nil {
		b.Fatal(err)
	}
	inBatches(b, db, benchSCIMUsers, func(tx gatehouse.Tx, i int) error {
		u := &gatehouse.User{Login: fmt.Sprintf("Person%d@example.com", i), Name: fmt.Sprintf("Person %d", i), ManagedBy: s.org.ID}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.AddMember(ctx, &gatehouse.Membership{OrgID: s.org.ID, UserID: u.ID, RoleID: role.ID}); err != nil {
			return err
		}
		return tx.PutSCIMUser(ctx, s.org.ID, u.ID, fmt.Sprintf("ext-%d", i), time.Now())
	})
	// The statistics autovacuum (PostgreSQL) or the next optimize (SQLite)
	// would gather on their own.
	if err := db.UnsafeExec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkSCIMLookup is an identity provider's lookup before each
// create or update (Okta by userName, Entra ID by userName or
// externalId), and a page of a full listing, in an organization of 10,000
// provisioned members.
func BenchmarkSCIMLookup(b *testing.B) {
	dialects(b, func(b *testing.B, dialect string) {
		s := seedSCIM(b, dialect)
		for _, c := range []struct {
			name string
			f    func(i int) gatehouse.SCIMFilter
			want int
		}{
			{"userName", func(i int) gatehouse.SCIMFilter {
				return gatehouse.SCIMFilter{Attr: gatehouse.SCIMAttrUserName, Value: fmt.Sprintf("person%d@EXAMPLE.com", i%benchSCIMUsers), Limit: 100}
			}, 1},
			{"externalId", func(i int) gatehouse.SCIMFilter {
				return gatehouse.SCIMFilter{Attr: gatehouse.SCIMAttrExternalID, Value: fmt.Sprintf("ext-%d", i%benchSCIMUsers), Limit: 100}
			}, 1},
			{"page", func(i int) gatehouse.SCIMFilter {
				return gatehouse.SCIMFilter{Offset: (i * 100) % benchSCIMUsers, Limit: 100}
			}, 100},
		} {
			b.Run(c.name, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					err := s.db.Read(ctx, func(tx gatehouse.Tx) error {
						us, total, err := tx.ListSCIMUsers(ctx, s.org.ID, c.f(i))
						if err == nil && (len(us) != c.want || (c.want == 1 && total != 1)) {
							err = fmt.Errorf("%s: %d of %d", c.name, len(us), total)
						}
						return err
					})
					if err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		}
	})
}
