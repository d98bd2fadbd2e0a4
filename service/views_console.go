package service

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/gatehouse-iam/gatehouse"
)

// StackOutputNames returns the names of the outputs of the stack's
// current deployment (those of its pulumi:pulumi:Stack resource), sorted:
// what the console shows of a stack's outputs. Names only, so that it
// opens no secret and is no export (which reads values and is audited).
func (s *Service) StackOutputNames(ctx context.Context, st *gatehouse.Stack) ([]string, error) {
	var data []byte
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
		data, err = exportTx(ctx, tx, st, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	var dep struct {
		Deployment struct {
			Resources []struct {
				Type    string                     `json:"type"`
				Outputs map[string]json.RawMessage `json:"outputs"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal(data, &dep); err != nil {
		return nil, fmt.Errorf("stack %s/%s: its deployment does not parse: %w", st.Project, st.Name, err)
	}
	names := []string{}
	for _, r := range dep.Deployment.Resources {
		if r.Type == "pulumi:pulumi:Stack" {
			for k := range r.Outputs {
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}
