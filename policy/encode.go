package policy

import (
	"encoding/json"
	"fmt"
)

// Encode serializes a descriptor tree in Pulumi's wire format. Decoding the
// result gives back an equal tree.
func Encode(n Node) ([]byte, error) { return json.Marshal(wireNode(n)) }

// EncodeExpr serializes one expression in Pulumi's wire format.
func EncodeExpr(e Expr) ([]byte, error) { return json.Marshal(wireExpr(e)) }

func wireNode(n Node) any {
	switch n := n.(type) {
	case nil:
		return nil
	case *Allow:
		perms := n.Permissions
		if perms == nil {
			perms = []string{}
		}
		var c any
		if n.Constraints != nil {
			c = struct {
				MaxOpenDuration int `json:"MaxOpenDuration,omitempty"`
			}{n.Constraints.MaxOpenDuration}
		}
		return struct {
			T           string   `json:"__type"`
			Permissions []string `json:"permissions"`
			Constraints any      `json:"constraints,omitempty"`
		}{typeAllow, perms, c}
	case *Group:
		entries := make([]any, len(n.Entries))
		for i, e := range n.Entries {
			entries[i] = wireNode(e)
		}
		return struct {
			T       string `json:"__type"`
			Entries []any  `json:"entries"`
		}{typeGroup, entries}
	case *Compose:
		ids := n.Descriptors
		if ids == nil {
			ids = []string{}
		}
		return struct {
			T   string   `json:"__type"`
			IDs []string `json:"permissionDescriptors"`
		}{typeCompose, ids}
	case *Condition:
		return struct {
			T    string `json:"__type"`
			Cond any    `json:"condition"`
			Sub  any    `json:"subNode"`
		}{typeCondition, wireExpr(n.Condition), wireNode(n.SubNode)}
	case *IfThenElse:
		return struct {
			T    string `json:"__type"`
			Cond any    `json:"condition"`
			Then any    `json:"subNodeForTrue"`
			Else any    `json:"subNodeForFalse"`
		}{typeIfThenElse, wireExpr(n.Condition), wireNode(n.Then), wireNode(n.Else)}
	case *Select:
		type option struct {
			Value any `json:"value"`
			Node  any `json:"node"`
		}
		opts := make([]option, len(n.Options))
		for i, o := range n.Options {
			opts[i] = option{wireExpr(o.Value), wireNode(o.Node)}
		}
		return struct {
			T        string   `json:"__type"`
			Selector any      `json:"selector"`
			Options  []option `json:"options"`
		}{typeSelect, wireExpr(n.Selector), opts}
	}
	panic(fmt.Sprintf("policy: unknown node %T", n))
}

type typed struct {
	T string `json:"__type"`
}

type binary struct {
	T     string `json:"__type"`
	Left  any    `json:"left"`
	Right any    `json:"right"`
}

type keyed struct {
	T       string `json:"__type"`
	Context any    `json:"context"`
	Key     string `json:"key"`
}

func wireExpr(e Expr) any {
	switch e := e.(type) {
	case nil:
		return nil
	case *And:
		return binary{typeAnd, wireExpr(e.Left), wireExpr(e.Right)}
	case *Or:
		return binary{typeOr, wireExpr(e.Left), wireExpr(e.Right)}
	case *Equal:
		return binary{typeEqual, wireExpr(e.Left), wireExpr(e.Right)}
	case *Not:
		return struct {
			T    string `json:"__type"`
			Node any    `json:"node"`
		}{typeNot, wireExpr(e.Node)}
	case *HasTag:
		return keyed{typeHasTag, wireCtx(e.Context), e.Key}
	case *Tag:
		return keyed{typeTag, wireCtx(e.Context), e.Key}
	case *In:
		return struct {
			T      string `json:"__type"`
			Target any    `json:"target"`
			Values any    `json:"values"`
		}{typeIn, wireExpr(e.Target), wireExpr(e.Values)}
	case *Context:
		return typed{contextTypes[e.Type]}
	case *String:
		return struct {
			T     string `json:"__type"`
			Value string `json:"value"`
		}{typeString, e.Value}
	case *Number:
		return struct {
			T     string  `json:"__type"`
			Value float64 `json:"value"`
		}{typeNumber, e.Value}
	case *Bool:
		return struct {
			T     string `json:"__type"`
			Value bool   `json:"value"`
		}{typeBool, e.Value}
	case *EntityLit:
		return struct {
			T        string `json:"__type"`
			Identity string `json:"identity"`
		}{literalTypes[e.Type], e.ID}
	case *StringSet:
		vals := e.Values
		if vals == nil {
			vals = []string{}
		}
		return struct {
			T      string   `json:"__type"`
			Values []string `json:"values"`
		}{typeStringSet, vals}
	case *EntitySet:
		ids := e.IDs
		if ids == nil {
			ids = []string{}
		}
		return struct {
			T          string   `json:"__type"`
			Identities []string `json:"identities"`
		}{setTypes[e.Type], ids}
	}
	panic(fmt.Sprintf("policy: unknown expression %T", e))
}

func wireCtx(c *Context) any {
	if c == nil {
		return nil
	}
	return wireExpr(c)
}
