package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
)

// Decode parses a descriptor tree (the "details" of a role, set or policy).
// Errors are Errors whose paths start at "details". Decode checks structure
// and the size limits; Validate checks meaning (scopes, contexts, references).
func Decode(data []byte) (Node, error) { return DecodeAt(data, "details") }

// DecodeAt is Decode with error paths starting at root.
func DecodeAt(data []byte, root string) (Node, error) {
	var p problems
	if len(data) > MaxDocumentBytes {
		p.add(root, fmt.Sprintf("document is %d bytes, over the limit of %d", len(data), MaxDocumentBytes))
		return nil, p.err()
	}
	v, err := parseJSON(data)
	if err != nil {
		p.add(root, err.Error())
		return nil, p.err()
	}
	d := decoder{p: &p}
	n := d.node(v, root, 0)
	if e := p.err(); e != nil {
		return nil, e
	}
	return n, nil
}

func parseJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the document")
	}
	return v, nil
}

type decoder struct{ p *problems }

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// object checks that v is an object with a string __type and only the
// allowed fields, returning the object and its type.
func (d *decoder) object(v any, path string, what string) (map[string]any, string, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			d.p.add(path, "missing "+what)
		} else {
			d.p.add(path, fmt.Sprintf("want %s (an object with __type), got %s", what, kindOf(v)))
		}
		return nil, "", false
	}
	t, ok := obj["__type"].(string)
	if !ok {
		if _, present := obj["__type"]; present {
			d.p.add(path+".__type", "want a string, got "+kindOf(obj["__type"]))
		} else {
			d.p.add(path, "missing __type")
		}
		return nil, "", false
	}
	return obj, t, true
}

// fields reports every field of obj outside allowed.
func (d *decoder) fields(obj map[string]any, path, typ string, allowed ...string) {
	var unknown []string
	for k := range obj {
		if k != "__type" && !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		d.p.add(path, fmt.Sprintf("unknown field %q in %s", k, typ))
	}
}

func (d *decoder) depth(path string, depth int) bool {
	if depth > MaxDepth {
		d.p.add(path, fmt.Sprintf("nested deeper than %d levels", MaxDepth))
		return false
	}
	return true
}

func (d *decoder) node(v any, path string, depth int) Node {
	if d.p.full() || !d.depth(path, depth) {
		return nil
	}
	obj, t, ok := d.object(v, path, "a permission descriptor")
	if !ok {
		return nil
	}
	switch t {
	case typeAllow:
		d.fields(obj, path, t, "permissions", "constraints")
		n := &Allow{Permissions: d.strings(obj["permissions"], path+".permissions", false)}
		if c, ok := obj["constraints"]; ok && c != nil {
			n.Constraints = d.constraints(c, path+".constraints")
		}
		return n
	case typeGroup:
		d.fields(obj, path, t, "entries")
		arr := d.array(obj["entries"], path+".entries")
		if len(arr) > MaxGroupEntries {
			d.p.add(path+".entries", fmt.Sprintf("%d entries, over the limit of %d", len(arr), MaxGroupEntries))
			return nil
		}
		n := &Group{Entries: make([]Node, 0, len(arr))}
		for i, e := range arr {
			n.Entries = append(n.Entries, d.node(e, path+".entries["+strconv.Itoa(i)+"]", depth+1))
		}
		return n
	case typeCompose:
		d.fields(obj, path, t, "permissionDescriptors")
		return &Compose{Descriptors: d.strings(obj["permissionDescriptors"], path+".permissionDescriptors", false)}
	case typeCondition:
		d.fields(obj, path, t, "condition", "subNode")
		return &Condition{
			Condition: d.boolExpr(obj["condition"], path+".condition", depth+1),
			SubNode:   d.node(obj["subNode"], path+".subNode", depth+1),
		}
	case typeIfThenElse:
		d.fields(obj, path, t, "condition", "subNodeForTrue", "subNodeForFalse")
		return &IfThenElse{
			Condition: d.boolExpr(obj["condition"], path+".condition", depth+1),
			Then:      d.node(obj["subNodeForTrue"], path+".subNodeForTrue", depth+1),
			Else:      d.node(obj["subNodeForFalse"], path+".subNodeForFalse", depth+1),
		}
	case typeSelect:
		d.fields(obj, path, t, "selector", "options")
		n := &Select{Selector: d.valueExpr(obj["selector"], path+".selector", depth+1)}
		arr := d.array(obj["options"], path+".options")
		if len(arr) > MaxGroupEntries {
			d.p.add(path+".options", fmt.Sprintf("%d options, over the limit of %d", len(arr), MaxGroupEntries))
			return nil
		}
		for i, o := range arr {
			op := path + ".options[" + strconv.Itoa(i) + "]"
			m, ok := o.(map[string]any)
			if !ok {
				d.p.add(op, "want an object with value and node, got "+kindOf(o))
				continue
			}
			d.fields(m, op, "a Select option", "value", "node")
			n.Options = append(n.Options, Option{
				Value: d.valueExpr(m["value"], op+".value", depth+1),
				Node:  d.node(m["node"], op+".node", depth+1),
			})
		}
		return n
	}
	if _, isExpr := exprTypeNames[t]; isExpr {
		d.p.add(path, fmt.Sprintf("%s is an expression; want a permission descriptor", t))
	} else {
		d.p.add(path, fmt.Sprintf("unknown __type %q", t))
	}
	return nil
}

var exprTypeNames = func() map[string]bool {
	m := map[string]bool{typeAnd: true, typeOr: true, typeNot: true, typeEqual: true, typeHasTag: true,
		typeIn: true, typeTag: true, typeString: true, typeNumber: true, typeBool: true, typeStringSet: true}
	for _, tbl := range []map[gatehouse.EntityType]string{contextTypes, literalTypes, setTypes} {
		for _, n := range tbl {
			m[n] = true
		}
	}
	return m
}()

// Expression classes, for checking where an expression may stand.
type exprClass int

const (
	classBool  exprClass = iota // And, Or, Not, Equal, HasTag, In
	classValue                  // contexts, tags, literals (booleans included)
	classSet                    // set expressions: only In's values
)

func (d *decoder) boolExpr(v any, path string, depth int) Expr {
	e, c := d.expr(v, path, depth, "a condition")
	if e != nil && c != classBool {
		d.p.add(path, fmt.Sprintf("%s is not a condition; want And, Or, Not, Equal, HasTag or In", typeName(e)))
		return nil
	}
	return e
}

func (d *decoder) valueExpr(v any, path string, depth int) Expr {
	e, c := d.expr(v, path, depth, "an expression")
	if e != nil && c == classSet {
		d.p.add(path, fmt.Sprintf("%s is a set; sets may only be the values of PermissionExpressionIn", typeName(e)))
		return nil
	}
	return e
}

func (d *decoder) expr(v any, path string, depth int, what string) (Expr, exprClass) {
	if d.p.full() || !d.depth(path, depth) {
		return nil, classValue
	}
	obj, t, ok := d.object(v, path, what)
	if !ok {
		return nil, classValue
	}
	if e, c, ok := d.operator(obj, t, path, depth); ok {
		return e, c
	}
	if e, c, ok := d.literal(obj, t, path, depth); ok {
		return e, c
	}
	if e, c, ok := d.entityExpr(obj, t, path); ok {
		return e, c
	}
	switch t {
	case typeAllow, typeGroup, typeCompose, typeCondition, typeIfThenElse, typeSelect:
		d.p.add(path, fmt.Sprintf("%s is a permission descriptor; want %s", t, what))
	default:
		d.p.add(path, fmt.Sprintf("unknown __type %q", t))
	}
	return nil, classValue
}

// operator decodes the boolean operators (And, Or, Not, Equal, HasTag,
// In); ok is false when t is none of them.
func (d *decoder) operator(obj map[string]any, t, path string, depth int) (e Expr, c exprClass, ok bool) {
	switch t {
	case typeAnd, typeOr:
		d.fields(obj, path, t, "left", "right")
		l := d.boolExpr(obj["left"], path+".left", depth+1)
		r := d.boolExpr(obj["right"], path+".right", depth+1)
		if t == typeAnd {
			return &And{Left: l, Right: r}, classBool, true
		}
		return &Or{Left: l, Right: r}, classBool, true
	case typeNot:
		d.fields(obj, path, t, "node")
		return &Not{Node: d.boolExpr(obj["node"], path+".node", depth+1)}, classBool, true
	case typeEqual:
		d.fields(obj, path, t, "left", "right")
		return &Equal{Left: d.valueExpr(obj["left"], path+".left", depth+1),
			Right: d.valueExpr(obj["right"], path+".right", depth+1)}, classBool, true
	case typeHasTag:
		// "node" is inherited from the unary base type on the wire and unused.
		d.fields(obj, path, t, "context", "key", "node")
		return &HasTag{Context: d.context(obj["context"], path+".context", depth+1),
			Key: d.str(obj["key"], path+".key", true)}, classBool, true
	case typeIn:
		d.fields(obj, path, t, "target", "values")
		n := &In{Target: d.valueExpr(obj["target"], path+".target", depth+1)}
		vals, c := d.expr(obj["values"], path+".values", depth+1, "a set expression")
		if vals != nil && c != classSet {
			d.p.add(path+".values", fmt.Sprintf("%s is not a set; want PermissionSetExpressionString or an entity set", typeName(vals)))
		} else {
			n.Values = vals
		}
		return n, classBool, true
	}
	return nil, classValue, false
}

// literal decodes tags, literals and string sets; ok is false when t is
// none of them.
func (d *decoder) literal(obj map[string]any, t, path string, depth int) (e Expr, c exprClass, ok bool) {
	switch t {
	case typeTag:
		d.fields(obj, path, t, "context", "key")
		return &Tag{Context: d.context(obj["context"], path+".context", depth+1),
			Key: d.str(obj["key"], path+".key", true)}, classValue, true
	case typeString:
		d.fields(obj, path, t, "value")
		return &String{Value: d.str(obj["value"], path+".value", false)}, classValue, true
	case typeNumber:
		d.fields(obj, path, t, "value")
		n, ok := obj["value"].(json.Number)
		if !ok {
			d.p.add(path+".value", "want a number, got "+kindOf(obj["value"]))
			return nil, classValue, true
		}
		f, err := n.Float64()
		if err != nil {
			d.p.add(path+".value", fmt.Sprintf("number %s out of range", n))
			return nil, classValue, true
		}
		return &Number{Value: f}, classValue, true
	case typeBool:
		d.fields(obj, path, t, "value")
		b, ok := obj["value"].(bool)
		if !ok {
			d.p.add(path+".value", "want a boolean, got "+kindOf(obj["value"]))
			return nil, classValue, true
		}
		return &Bool{Value: b}, classValue, true
	case typeStringSet:
		d.fields(obj, path, t, "values")
		vals := d.strings(obj["values"], path+".values", false)
		if len(vals) > MaxGroupEntries {
			d.p.add(path+".values", fmt.Sprintf("%d values, over the limit of %d", len(vals), MaxGroupEntries))
		}
		return &StringSet{Values: vals}, classSet, true
	}
	return nil, classValue, false
}

// entityExpr decodes the entity contexts, literals and sets; ok is false
// when t is none of them.
func (d *decoder) entityExpr(obj map[string]any, t, path string) (e Expr, c exprClass, ok bool) {
	if et, ok := contextByName[t]; ok {
		d.fields(obj, path, t)
		return &Context{Type: et}, classValue, true
	}
	if et, ok := literalByName[t]; ok {
		d.fields(obj, path, t, "identity")
		return &EntityLit{Type: et, ID: d.uuid(obj["identity"], path+".identity")}, classValue, true
	}
	if et, ok := setByName[t]; ok {
		d.fields(obj, path, t, "identities")
		ids := d.strings(obj["identities"], path+".identities", false)
		if len(ids) > MaxGroupEntries {
			d.p.add(path+".identities", fmt.Sprintf("%d values, over the limit of %d", len(ids), MaxGroupEntries))
		}
		for i, id := range ids {
			ids[i] = d.checkUUID(id, path+".identities["+strconv.Itoa(i)+"]")
		}
		return &EntitySet{Type: et, IDs: ids}, classSet, true
	}
	return nil, classValue, false
}

func (d *decoder) context(v any, path string, depth int) *Context {
	e, _ := d.expr(v, path, depth, "a context expression")
	if e == nil {
		return nil
	}
	c, ok := e.(*Context)
	if !ok {
		d.p.add(path, fmt.Sprintf("%s is not a context; want PermissionExpressionStack, PermissionExpressionEnvironment, PermissionExpressionInsightsAccount or PermissionExpressionTeam", typeName(e)))
		return nil
	}
	return c
}

func (d *decoder) constraints(v any, path string) *Constraints {
	obj, ok := v.(map[string]any)
	if !ok {
		d.p.add(path, "want an object, got "+kindOf(v))
		return nil
	}
	c := &Constraints{}
	for k, x := range obj {
		if k != "MaxOpenDuration" {
			d.p.add(path, fmt.Sprintf("unknown field %q in constraints", k))
			continue
		}
		n, ok := x.(json.Number)
		if !ok {
			d.p.add(path+".MaxOpenDuration", "want a whole number of seconds, got "+kindOf(x))
			continue
		}
		i, err := strconv.Atoi(n.String())
		if err != nil || i < 0 {
			d.p.add(path+".MaxOpenDuration", fmt.Sprintf("want a whole, non-negative number of seconds, got %s", n))
			continue
		}
		c.MaxOpenDuration = i
	}
	return c
}

func (d *decoder) array(v any, path string) []any {
	if v == nil {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		d.p.add(path, "want an array, got "+kindOf(v))
	}
	return arr
}

func (d *decoder) strings(v any, path string, required bool) []string {
	if v == nil {
		if required {
			d.p.add(path, "missing")
		}
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		d.p.add(path, "want an array of strings, got "+kindOf(v))
		return nil
	}
	if len(arr) == 0 {
		return nil // an empty list and a missing one mean the same
	}
	out := make([]string, 0, len(arr))
	for i, x := range arr {
		s, ok := x.(string)
		if !ok {
			d.p.add(path+"["+strconv.Itoa(i)+"]", "want a string, got "+kindOf(x))
			continue
		}
		out = append(out, s)
	}
	return out
}

func (d *decoder) str(v any, path string, nonEmpty bool) string {
	s, ok := v.(string)
	if !ok {
		if v == nil {
			d.p.add(path, "missing")
		} else {
			d.p.add(path, "want a string, got "+kindOf(v))
		}
		return ""
	}
	if nonEmpty && s == "" {
		d.p.add(path, "must not be empty")
	}
	return s
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (d *decoder) uuid(v any, path string) string {
	s := d.str(v, path, true)
	if s == "" {
		return ""
	}
	return d.checkUUID(s, path)
}

// checkUUID reports a malformed id and returns it in canonical lower case.
func (d *decoder) checkUUID(s, path string) string {
	if !uuidRE.MatchString(s) {
		d.p.add(path, fmt.Sprintf("%q is not a UUID", s))
		return s
	}
	return strings.ToLower(s)
}

// typeName returns the wire __type of e.
func typeName(e Expr) string {
	switch e := e.(type) {
	case *And:
		return typeAnd
	case *Or:
		return typeOr
	case *Not:
		return typeNot
	case *Equal:
		return typeEqual
	case *HasTag:
		return typeHasTag
	case *In:
		return typeIn
	case *Tag:
		return typeTag
	case *String:
		return typeString
	case *Number:
		return typeNumber
	case *Bool:
		return typeBool
	case *StringSet:
		return typeStringSet
	case *Context:
		return contextTypes[e.Type]
	case *EntityLit:
		return literalTypes[e.Type]
	case *EntitySet:
		return setTypes[e.Type]
	}
	return fmt.Sprintf("%T", e)
}
