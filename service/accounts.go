package service

import (
	"context"
	"encoding/json"

	"github.com/gatehouse-iam/gatehouse"
)

// AccountInput describes a new Insights account.
type AccountInput struct {
	Name           string
	Provider       string
	Environment    string
	ScanSchedule   string
	AgentPoolID    string
	ProviderConfig json.RawMessage
}

// AccountDetails is what an account keeps beyond its name and tags.
type AccountDetails struct {
	Provider       string          `json:"provider"`
	Environment    string          `json:"environment"`
	ScanSchedule   string          `json:"scanSchedule,omitempty"`
	AgentPoolID    string          `json:"agentPoolID,omitempty"`
	ProviderConfig json.RawMessage `json:"providerConfig,omitempty"`
}

var accountProviders = map[string]bool{"aws": true, "gcp": true, "azure-native": true, "oci": true, "kubernetes": true}

// CreateAccount creates an Insights account; a user who creates it
// administers it.
func (s *Service) CreateAccount(ctx context.Context, orgID string, by *gatehouse.Identity, in AccountInput) (*gatehouse.Account, error) {
	return batchOne(ctx, s, orgID, func(b *Batch) (*gatehouse.Account, error) { return b.CreateAccount(by, in) })
}

func (s *Service) createAccountTx(ctx context.Context, tx gatehouse.Tx, orgID string, by *gatehouse.Identity, in AccountInput) (*gatehouse.Account, error) {
	if err := checkStackName("accountName", in.Name); err != nil {
		return nil, err
	}
	if !accountProviders[in.Provider] {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "provider: %q is not one of aws, gcp, azure-native, oci, kubernetes", in.Provider)
	}
	if in.Environment == "" {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "environment: required, the project/environment holding the provider's credentials")
	}
	switch in.ScanSchedule {
	case "", "none", "12h", "daily":
	default:
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "scanSchedule: %q is not none, 12h or daily", in.ScanSchedule)
	}
	if len(in.ProviderConfig) > 0 && !json.Valid(in.ProviderConfig) {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "providerConfig: not JSON")
	}
	details, _ := json.Marshal(AccountDetails{Provider: in.Provider, Environment: in.Environment, ScanSchedule: in.ScanSchedule,
		AgentPoolID: in.AgentPoolID, ProviderConfig: in.ProviderConfig})
	a := &gatehouse.Account{OrgID: orgID, Name: in.Name, Details: details}
	if by.User != nil {
		a.CreatedBy = by.User.ID
	}
	if err := tx.CreateAccount(ctx, a); err != nil {
		return nil, err
	}
	return a, s.audit(ctx, tx, orgID, gatehouse.EventAccountCreated, a.ID, map[string]string{"provider": in.Provider}, "created Insights account %s", a.Name)
}

// Account returns an Insights account by name.
func (s *Service) Account(ctx context.Context, orgID, name string) (a *gatehouse.Account, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		a, err = tx.GetAccount(ctx, orgID, name)
		return err
	})
	return a, err
}

// Accounts lists one page of an organization's accounts that visible
// allows.
func (s *Service) Accounts(ctx context.Context, orgID string, visible func(*gatehouse.Account) bool, opts gatehouse.ListOptions) (out []*gatehouse.Account, next string, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		out = nil // a retried read starts over (store.guard)
		page, n, err := tx.ListAccounts(ctx, orgID, opts)
		next = n
		for _, a := range page {
			if visible(a) {
				out = append(out, a)
			}
		}
		return err
	})
	return out, next, err
}

// DeleteAccount deletes an Insights account.
func (s *Service) DeleteAccount(ctx context.Context, a *gatehouse.Account) error {
	return s.Batch(ctx, a.OrgID, func(b *Batch) error { return b.DeleteAccount(a) })
}

func (s *Service) deleteAccountTx(ctx context.Context, tx gatehouse.Tx, orgID string, a *gatehouse.Account) error {
	if a.OrgID != orgID {
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "account %q not found", a.Name)
	}
	if err := tx.DeleteAccount(ctx, a.ID); err != nil {
		return err
	}
	return s.audit(ctx, tx, a.OrgID, gatehouse.EventAccountDeleted, a.ID, nil, "deleted Insights account %s", a.Name)
}

// SetAccountTags replaces an account's tags.
func (s *Service) SetAccountTags(ctx context.Context, a *gatehouse.Account, tags map[string]string) error {
	changed := false
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		if err := tx.LockOrg(ctx, a.OrgID); err != nil {
			return err
		}
		changed, err = s.setAccountTagsTx(ctx, tx, a.OrgID, a, tags)
		return err
	})
	if err != nil || !changed {
		return err
	}
	return s.az.Refresh(ctx, a.OrgID)
}

// setAccountTagsTx is SetAccountTags in a transaction; it reports whether
// the tags changed (the snapshot is then to be refreshed).
func (s *Service) setAccountTagsTx(ctx context.Context, tx gatehouse.Tx, orgID string, a *gatehouse.Account, tags map[string]string) (bool, error) {
	cur, err := tx.GetAccountByID(ctx, a.ID)
	if err == nil && cur.OrgID != orgID {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "account %q not found", a.Name)
	}
	if err != nil {
		return false, err
	}
	next, ok, err := s.retag(ctx, cur.OrgID, gatehouse.EntityRef{Type: gatehouse.EntityInsightsAccount, ID: cur.ID}, cur.Tags, TagUpdate{Replace: tags}, "", "", gatehouse.ECONFLICT)
	if err != nil || !ok {
		return false, err
	}
	before := cur.Tags
	cur.Tags = next
	if err := tx.UpdateAccount(ctx, cur); err != nil {
		return false, err
	}
	return true, s.audit(ctx, tx, cur.OrgID, gatehouse.EventAccountTagsChanged, cur.ID, map[string]any{"before": before, "after": next},
		"changed the tags of Insights account %s", cur.Name)
}
