package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/esc"
	"github.com/pulumi/esc/schema"

	"github.com/gatehouse-iam/gatehouse"
)

// StackAuthorizer decides, for the caller, whether it may read a stack's
// outputs through fn::open::pulumi-stacks (stack:read on it).
type StackAuthorizer func(ctx context.Context, st *gatehouse.Stack) error

type stackAuthorizerKey struct{}

// WithStackAuthorizer carries the caller's StackAuthorizer to the
// evaluations of ctx: without one, fn::open::pulumi-stacks reads nothing.
func WithStackAuthorizer(ctx context.Context, a StackAuthorizer) context.Context {
	return context.WithValue(ctx, stackAuthorizerKey{}, a)
}

// stacksProvider serves fn::open::pulumi-stacks natively: the outputs of
// the organization's stacks, each read only when the opener holds
// stack:read on it.
//
//	fn::open::pulumi-stacks:
//	  stacks:
//	    net: {stack: project/stack}
type stacksProvider struct {
	s         *Service
	orgID     string
	authorize StackAuthorizer
}

func (p *stacksProvider) Schema() (inputs, outputs *schema.Schema) {
	ref := schema.Record(schema.SchemaMap{"stack": schema.String().Schema()})
	return schema.Record(schema.SchemaMap{"stacks": schema.Object().AdditionalProperties(ref).Schema()}).Schema(), schema.Always()
}

func (p *stacksProvider) Open(ctx context.Context, inputs map[string]esc.Value, _ esc.EnvExecContext) (esc.Value, error) {
	stacks, _ := inputs["stacks"].Value.(map[string]esc.Value)
	out := map[string]esc.Value{}
	for name, v := range stacks {
		ref, _ := v.Value.(map[string]esc.Value)
		full, _ := ref["stack"].Value.(string)
		outputs, err := p.outputs(ctx, full)
		if err != nil {
			return esc.Value{}, fmt.Errorf("stack %q: %v", full, err)
		}
		out[name] = esc.NewValue(outputs)
	}
	return esc.NewValue(out), nil
}

// outputs reads the outputs of the root resource of project/stack's
// current deployment, its secrets opened.
func (p *stacksProvider) outputs(ctx context.Context, full string) (map[string]esc.Value, error) {
	project, name, ok := strings.Cut(full, "/")
	if !ok {
		return nil, fmt.Errorf("name it project/stack")
	}
	st, err := p.s.Stack(ctx, p.orgID, project, name)
	if err != nil {
		return nil, fmt.Errorf("not found")
	}
	if p.authorize == nil {
		return nil, fmt.Errorf("stacks cannot be read here")
	}
	if err := p.authorize(ctx, st); err != nil {
		return nil, fmt.Errorf("%s", gatehouse.ErrorMessage(err))
	}
	data, err := p.s.Export(ctx, st, 0)
	if err != nil {
		return nil, err
	}
	var dep struct {
		Deployment struct {
			Resources []struct {
				Type    string         `json:"type"`
				Outputs map[string]any `json:"outputs"`
			} `json:"resources"`
		} `json:"deployment"`
	}
	if err := json.Unmarshal(data, &dep); err != nil {
		return nil, fmt.Errorf("its deployment does not parse: %v", err)
	}
	out := map[string]esc.Value{}
	for _, r := range dep.Deployment.Resources {
		if r.Type == "pulumi:pulumi:Stack" {
			for k, v := range r.Outputs {
				if out[k], err = p.value(ctx, st, v); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// secretSig marks a secret in a deployment.
const secretSig = "1b47061264138c4ac30d75fd1eb44270"

// value turns a deployment's output into ESC's value, opening secrets
// under the stack's key.
func (p *stacksProvider) value(ctx context.Context, st *gatehouse.Stack, v any) (esc.Value, error) {
	switch x := v.(type) {
	case map[string]any:
		if x["4dabf18193072939515e22adb298388d"] == secretSig {
			c, _ := x["ciphertext"].(string)
			raw, err := base64.StdEncoding.DecodeString(c)
			if err != nil {
				return esc.Value{}, fmt.Errorf("a secret output that is not base64")
			}
			plain, err := p.s.Decrypt(ctx, st, [][]byte{raw})
			if err != nil {
				return esc.Value{}, err
			}
			var inner any
			if json.Unmarshal(plain[0], &inner) != nil {
				inner = string(plain[0])
			}
			val, err := p.value(ctx, st, inner)
			return val.MakeSecret(), err
		}
		m := map[string]esc.Value{}
		for k, e := range x {
			var err error
			if m[k], err = p.value(ctx, st, e); err != nil {
				return esc.Value{}, err
			}
		}
		return esc.NewValue(m), nil
	case []any:
		l := make([]esc.Value, len(x))
		for i, e := range x {
			var err error
			if l[i], err = p.value(ctx, st, e); err != nil {
				return esc.Value{}, err
			}
		}
		return esc.NewValue(l), nil
	case float64:
		return esc.NewValue(json.Number(fmt.Sprint(x))), nil
	case bool:
		return esc.NewValue(x), nil
	case string:
		return esc.NewValue(x), nil
	case nil:
		return esc.Value{}, nil
	}
	return esc.NewValue(fmt.Sprint(v)), nil
}
