package service

import (
	"context"

	"github.com/gatehouse-iam/gatehouse"
)

// Quota kinds: what CountOrg counts, with the setting that bounds it.
const (
	quotaStacks       = "stacks"
	quotaEnvironments = "environments"
	quotaTokens       = "tokens"
	quotaDescriptors  = "descriptors"
)

// checkQuota refuses a create when the organization already holds its
// quota of kind. It locks the organization's row first (in the
// transaction that creates), so that concurrent creates count one after
// another and together never pass the limit.
func (s *Service) checkQuota(ctx context.Context, tx gatehouse.Tx, orgID, kind string) error {
	if err := tx.LockOrg(ctx, orgID); err != nil {
		return err
	}
	org, err := tx.GetOrg(ctx, orgID)
	if err != nil {
		return err
	}
	q := org.Settings.Quotas.Effective()
	limit := map[string]int{quotaStacks: q.Stacks, quotaEnvironments: q.Environments, quotaTokens: q.Tokens, quotaDescriptors: q.Descriptors}[kind]
	n, err := s.count(ctx, tx, org, kind)
	if err != nil {
		return err
	}
	if n >= limit {
		return quotaError(kind, n, limit)
	}
	return nil
}

// checkTokenQuota is checkQuota for tokens: at the quota, the
// organization's exchanged tokens that have expired (they grant nothing)
// are revoked to make room, and the count is taken again.
func (s *Service) checkTokenQuota(ctx context.Context, tx gatehouse.Tx, orgID string) error {
	err := s.checkQuota(ctx, tx, orgID, quotaTokens)
	if gatehouse.ErrorCode(err) != gatehouse.ECONFLICT {
		return err
	}
	if n, perr := tx.PruneExchangedTokens(ctx, orgID, s.Now()); perr != nil || n == 0 {
		if perr != nil {
			return perr
		}
		return err
	}
	return s.checkQuota(ctx, tx, orgID, quotaTokens)
}

func quotaError(kind string, n, limit int) error {
	return gatehouse.Errorf(gatehouse.ECONFLICT,
		"quota: the organization holds %d %s, its limit of %d (setting quotas.%s); an admin raises it on the host with `gatehouse admin settings --org ORG --quota %s=N`",
		n, kind, limit, kind, kind)
}

// checkDescriptorSize refuses descriptor details over the organization's
// quota.
func checkDescriptorSize(ctx context.Context, tx gatehouse.Tx, orgID string, size int) error {
	org, err := tx.GetOrg(ctx, orgID)
	if err != nil {
		return err
	}
	if limit := org.Settings.Quotas.Effective().DescriptorBytes; size > limit {
		return gatehouse.Errorf(gatehouse.EINVALID,
			"details: %d bytes, over the organization's limit of %d (setting quotas.descriptorBytes; `gatehouse admin settings --quota descriptorBytes=N`)", size, limit)
	}
	return nil
}

// count is how many of kind the organization holds: one row of counters
// that the store keeps in the transaction of every insert, delete and
// revocation, read under the organization's lock, so a check costs the
// same at 10 stacks or 100,000 and races no other writer.
func (s *Service) count(ctx context.Context, tx gatehouse.Tx, org *gatehouse.Organization, kind string) (int, error) {
	return tx.CountOrg(ctx, org.ID, kind)
}
