package api

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

// SCIM's protocol words, read as identity providers write them: filters
// (`attr eq "value"`), PATCH operations with and without a path, attribute
// names and op values in any case (RFC 7643 §2.1), value paths
// (`members[value eq "id"]`, `emails[type eq "work"].value`).

// scimProblem is a refusal with RFC 7644 §3.12's scimType.
type scimProblem struct {
	status   int
	scimType string
	detail   string
}

func (p *scimProblem) Error() string { return p.detail }

func scimErrorf(status int, scimType, format string, args ...any) error {
	return &scimProblem{status: status, scimType: scimType, detail: fmt.Sprintf(format, args...)}
}

// scimMaxFilter bounds a filter's length.
const scimMaxFilter = 1024

var scimFilterRE = regexp.MustCompile(`(?i)^\s*([a-z][a-z0-9._:$-]*)\s+eq\s+("(?:[^"\\]|\\.)*")\s*$`)

// parseSCIMFilter reads `attr eq "value"` for the attributes allowed
// (lowercase name: the store's name); anything else is invalidFilter.
func parseSCIMFilter(filter string, schema string, allowed map[string]string) (gatehouse.SCIMFilter, error) {
	if filter == "" {
		return gatehouse.SCIMFilter{}, nil
	}
	if len(filter) > scimMaxFilter {
		return gatehouse.SCIMFilter{}, scimErrorf(400, "invalidFilter", "filter: %d characters, over the limit of %d", len(filter), scimMaxFilter)
	}
	m := scimFilterRE.FindStringSubmatch(filter)
	if m == nil {
		return gatehouse.SCIMFilter{}, scimErrorf(400, "invalidFilter", "filter: only `attribute eq \"value\"` is supported (on %s)", allowedNames(allowed))
	}
	attr, ok := allowed[strings.ToLower(stripSchema(m[1], schema))]
	if !ok {
		return gatehouse.SCIMFilter{}, scimErrorf(400, "invalidFilter", "filter: cannot filter on %q; filter on %s", service.ClientText(m[1]), allowedNames(allowed))
	}
	var v string
	if err := json.Unmarshal([]byte(m[2]), &v); err != nil {
		return gatehouse.SCIMFilter{}, scimErrorf(400, "invalidFilter", "filter: the value is not a valid string")
	}
	return gatehouse.SCIMFilter{Attr: attr, Value: v}, nil
}

func allowedNames(allowed map[string]string) string {
	var names []string
	for _, n := range allowed {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// stripSchema drops a schema URN before an attribute path
// ("urn:...:User:userName").
func stripSchema(path, schema string) string {
	if len(path) > len(schema) && strings.EqualFold(path[:len(schema)+1], schema+":") {
		return path[len(schema)+1:]
	}
	return path
}

// scimOp is one PATCH operation, its op lowercased.
type scimOp struct {
	i     int
	op    string
	path  string
	value json.RawMessage
}

// scimMaxOperations bounds a PATCH's operations.
const scimMaxOperations = 1000

func scimOps(p *wire.SCIMPatch) ([]scimOp, error) {
	if !containsFold(p.Schemas, wire.SCIMMessagePatch) {
		return nil, scimErrorf(400, "invalidSyntax", "schemas: must hold %s", wire.SCIMMessagePatch)
	}
	if len(p.Operations) == 0 || len(p.Operations) > scimMaxOperations {
		return nil, scimErrorf(400, "invalidSyntax", "Operations: want 1 to %d operations, got %d", scimMaxOperations, len(p.Operations))
	}
	out := make([]scimOp, len(p.Operations))
	for i, o := range p.Operations {
		op := strings.ToLower(o.Op)
		if op != "add" && op != "remove" && op != "replace" {
			return nil, scimErrorf(400, "invalidSyntax", "Operations[%d].op: %q is not add, remove or replace", i, service.ClientText(o.Op))
		}
		if op != "remove" && len(o.Value) == 0 {
			return nil, scimErrorf(400, "invalidValue", "Operations[%d].value: required for %s", i, op)
		}
		out[i] = scimOp{i: i, op: op, path: strings.TrimSpace(o.Path), value: o.Value}
	}
	return out, nil
}

func containsFold(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// each calls fn with every (attribute path, value) the operation sets:
// its path and value, or, without a path, each member of its value
// object (whose names may be paths themselves, as Entra ID sends
// "name.givenName").
func (o scimOp) each(schema string, fn func(path string, v json.RawMessage) error) error {
	if o.path != "" {
		return fn(strings.ToLower(stripSchema(o.path, schema)), o.value)
	}
	if o.op == "remove" {
		return scimErrorf(400, "noTarget", "Operations[%d].path: required for remove", o.i)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(o.value, &m); err != nil {
		return scimErrorf(400, "invalidValue", "Operations[%d].value: without a path, want an object of attributes", o.i)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(strings.ToLower(stripSchema(k, schema)), m[k]); err != nil {
			return err
		}
	}
	return nil
}

func (o scimOp) decode(path string, v json.RawMessage, dst any) error {
	if err := json.Unmarshal(v, dst); err != nil {
		return scimErrorf(400, "invalidValue", "Operations[%d].value: %s: %s", o.i, service.ClientText(path), jsonProblem(err))
	}
	return nil
}

// userPatchState gathers a user PATCH: the name's parts resolve once all
// operations are read (displayName wins over name.formatted, which wins
// over givenName and familyName).
type userPatchState struct {
	p                                 service.SCIMUserPatch
	display, formatted, given, family *string
	nameTouched                       bool
}

// scimIgnoredUserAttrs are attributes of the User schema and its
// enterprise extension that Gatehouse accepts and does not keep.
var scimIgnoredUserAttrs = regexp.MustCompile(`^(title|nickname|profileurl|usertype|preferredlanguage|locale|timezone|password|` +
	`(phonenumbers|addresses|ims|photos|roles|entitlements|x509certificates)(\[.*\])?(\..*)?|name\.(middlename|honorificprefix|honorificsuffix)|` +
	`urn:ietf:params:scim:schemas:extension:enterprise:2\.0:user(:.*)?)$`)

var emailsValuePathRE = regexp.MustCompile(`^emails\[.*\](\.value)?$`)

func userPatch(ops []scimOp) (service.SCIMUserPatch, error) {
	st := &userPatchState{}
	for _, o := range ops {
		if err := o.each(wire.SCIMSchemaUser, func(path string, v json.RawMessage) error { return st.set(o, path, v) }); err != nil {
			return st.p, err
		}
	}
	st.resolveName()
	return st.p, nil
}

func (st *userPatchState) set(o scimOp, path string, v json.RawMessage) error {
	str := func(dst **string) error {
		s := ""
		if o.op != "remove" {
			if err := o.decode(path, v, &s); err != nil {
				return err
			}
		}
		*dst = &s
		return nil
	}
	switch {
	case path == "active":
		if o.op == "remove" {
			return scimErrorf(400, "mutability", "Operations[%d]: active cannot be removed; set it to false", o.i)
		}
		var b wire.SCIMBool
		if err := o.decode(path, v, &b); err != nil {
			return err
		}
		active := bool(b)
		st.p.Active = &active
	case path == "username":
		if o.op == "remove" {
			return scimErrorf(400, "mutability", "Operations[%d]: userName is required and cannot be removed", o.i)
		}
		return str(&st.p.UserName)
	case path == "externalid":
		return str(&st.p.ExternalID)
	case path == "displayname":
		st.nameTouched = true
		return str(&st.display)
	case path == "name.formatted", path == "name.givenname", path == "name.familyname":
		st.nameTouched = true
		return str(map[string]**string{"name.formatted": &st.formatted, "name.givenname": &st.given, "name.familyname": &st.family}[path])
	case path == "name":
		return st.setName(o, v)
	case path == "emails" || emailsValuePathRE.MatchString(path):
		return st.setEmail(o, path, v)
	case scimIgnoredUserAttrs.MatchString(path):
	default:
		return scimErrorf(400, "invalidPath", "Operations[%d].path: %q is not an attribute of User", o.i, service.ClientText(path))
	}
	return nil
}

func (st *userPatchState) setName(o scimOp, v json.RawMessage) error {
	st.nameTouched = true
	var n wire.SCIMName
	if o.op != "remove" {
		if err := o.decode("name", v, &n); err != nil {
			return err
		}
	}
	st.formatted, st.given, st.family = &n.Formatted, &n.GivenName, &n.FamilyName
	return nil
}

func (st *userPatchState) setEmail(o scimOp, path string, v json.RawMessage) error {
	e := ""
	switch {
	case o.op == "remove":
	case strings.HasSuffix(path, ".value"):
		if err := o.decode(path, v, &e); err != nil {
			return err
		}
	default:
		var vs []wire.SCIMValue
		if err := o.decode(path, v, &vs); err != nil {
			var one wire.SCIMValue
			if json.Unmarshal(v, &one) != nil {
				return err
			}
			vs = []wire.SCIMValue{one}
		}
		e = primaryValue(vs)
	}
	st.p.Email = &e
	return nil
}

func (st *userPatchState) resolveName() {
	if !st.nameTouched {
		return
	}
	switch {
	case st.display != nil:
		st.p.Name = st.display
	case st.formatted != nil && *st.formatted != "":
		st.p.Name = st.formatted
	case st.given != nil || st.family != nil:
		n := strings.TrimSpace(strOf(st.given) + " " + strOf(st.family))
		st.p.Name = &n
	}
}

func strOf(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// primaryValue is the primary value of a multi-valued attribute, or its
// first.
func primaryValue(vs []wire.SCIMValue) string {
	for _, v := range vs {
		if v.Primary {
			return v.Value
		}
	}
	if len(vs) > 0 {
		return vs[0].Value
	}
	return ""
}

var memberFilterPathRE = regexp.MustCompile(`(?i)^members\[\s*value\s+eq\s+("(?:[^"\\]|\\.)*")\s*\]$`)

func groupPatch(ops []scimOp) (service.SCIMGroupPatch, error) {
	var p service.SCIMGroupPatch
	for _, o := range ops {
		err := o.each(wire.SCIMSchemaGroup, func(path string, v json.RawMessage) error { return setGroupAttr(&p, o, path, v) })
		if err != nil {
			return p, err
		}
	}
	return p, nil
}

func setGroupAttr(p *service.SCIMGroupPatch, o scimOp, path string, v json.RawMessage) error {
	if m := memberFilterPathRE.FindStringSubmatch(path); m != nil {
		if o.op != "remove" {
			return scimErrorf(400, "invalidPath", "Operations[%d].path: a member filter only removes", o.i)
		}
		var id string
		if err := json.Unmarshal([]byte(m[1]), &id); err != nil {
			return scimErrorf(400, "invalidPath", "Operations[%d].path: the member filter's value is not a valid string", o.i)
		}
		p.Remove = append(p.Remove, id)
		return nil
	}
	switch path {
	case "members":
		return setGroupMembers(p, o, v)
	case "displayname":
		if o.op == "remove" {
			return scimErrorf(400, "mutability", "Operations[%d]: displayName is required and cannot be removed", o.i)
		}
		var s string
		if err := o.decode(path, v, &s); err != nil {
			return err
		}
		p.DisplayName = &s
	case "externalid":
		s := ""
		if o.op != "remove" {
			if err := o.decode(path, v, &s); err != nil {
				return err
			}
		}
		p.ExternalID = &s
	case "id", "schemas", "meta":
		// Okta sends the group's id with a rename; it is read-only.
	default:
		return scimErrorf(400, "invalidPath", "Operations[%d].path: %q is not an attribute of Group", o.i, service.ClientText(path))
	}
	return nil
}

func setGroupMembers(p *service.SCIMGroupPatch, o scimOp, v json.RawMessage) error {
	var ids []string
	if len(v) > 0 && string(v) != "null" {
		var vs []wire.SCIMValue
		if err := o.decode("members", v, &vs); err != nil {
			return err
		}
		for i, m := range vs {
			if m.Value == "" {
				return scimErrorf(400, "invalidValue", "Operations[%d].value[%d].value: required (the user's id)", o.i, i)
			}
			ids = append(ids, m.Value)
		}
	}
	switch {
	case o.op == "add":
		p.Add = append(p.Add, ids...)
	case o.op == "remove" && ids != nil:
		p.Remove = append(p.Remove, ids...)
	case o.op == "remove":
		empty := []string{}
		p.Members, p.Add, p.Remove = &empty, nil, nil
	default: // replace
		all := append([]string{}, ids...)
		p.Members, p.Add, p.Remove = &all, nil, nil
	}
	return nil
}
