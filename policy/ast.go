// Package policy is Gatehouse's permission-descriptor engine: it decodes,
// validates and encodes Pulumi's descriptor trees (roles, permission sets and
// policies), compiles a role into an indexed form, decides whether a
// principal's compiled roles grant a scope on an entity, and explains why.
//
// The package is pure: no I/O, no clock, no logging, no database. Compose
// references are resolved through a Lookup the caller passes in.
//
// Semantics, where Pulumi leaves them undefined, are Gatehouse's and are
// stated once here:
//
//   - A scope in an Allow applies to every entity of the scope's entity types
//     that the Allow's enclosing conditions admit; a global scope applies to
//     the organization entity.
//   - Expressions evaluate against the entity being decided. A context
//     expression (PermissionExpressionStack, ...) is that entity when its type
//     matches and is absent otherwise; a tag expression is absent when the
//     context is absent or the tag is not set. Equal is false when either side
//     is absent, so Not(Equal(tag, "prod")) holds for an entity without the tag.
//   - IfThenElse grants its true branch where the condition holds and its
//     false branch everywhere else the node is reached.
//   - Select grants the node of every option whose value equals the selector
//     (a union, consistent with the purely additive model).
//   - Compose includes the referenced descriptors; a reference back onto the
//     current Compose path adds nothing (it is already being granted).
package policy

import "github.com/gatehouse-iam/gatehouse"

// Node is a permission descriptor node (Pulumi's PermissionDescriptor).
type Node interface{ isNode() }

// Allow grants scopes (PermissionDescriptorAllow).
type Allow struct {
	Permissions []string
	Constraints *Constraints
}

// Constraints are Allow's optional constraints (RbacPermissionConstraints).
type Constraints struct {
	// MaxOpenDuration, in seconds, bounds how long an opened environment's
	// values may be kept. Zero means no bound.
	MaxOpenDuration int
}

// Group is the union of its entries (PermissionDescriptorGroup).
type Group struct{ Entries []Node }

// Compose includes stored descriptors by id (PermissionDescriptorCompose).
type Compose struct{ Descriptors []string }

// Condition grants SubNode where Condition holds (PermissionDescriptorCondition).
type Condition struct {
	Condition Expr
	SubNode   Node
}

// IfThenElse grants Then where Condition holds and Else where it does not
// (PermissionDescriptorIfThenElse).
type IfThenElse struct {
	Condition Expr
	Then      Node
	Else      Node
}

// Select grants the node of every option whose value equals Selector
// (PermissionDescriptorSelect).
type Select struct {
	Selector Expr
	Options  []Option
}

// Option is one arm of a Select.
type Option struct {
	Value Expr
	Node  Node
}

func (*Allow) isNode()      {}
func (*Group) isNode()      {}
func (*Compose) isNode()    {}
func (*Condition) isNode()  {}
func (*IfThenElse) isNode() {}
func (*Select) isNode()     {}

// Expr is a permission expression (Pulumi's PermissionExpression, literal and
// set expressions included).
type Expr interface{ isExpr() }

// And holds when both sides hold (PermissionExpressionAnd).
type And struct{ Left, Right Expr }

// Or holds when either side holds (PermissionExpressionOr).
type Or struct{ Left, Right Expr }

// Not holds when Node does not (PermissionExpressionNot).
type Not struct{ Node Expr }

// Equal holds when both sides are present and equal (PermissionExpressionEqual).
type Equal struct{ Left, Right Expr }

// HasTag holds when the context entity has the tag Key
// (PermissionExpressionHasTag).
type HasTag struct {
	Context *Context
	Key     string
}

// In holds when Target is present and one of Values (PermissionExpressionIn).
// Values is a *StringSet or an *EntitySet.
type In struct {
	Target Expr
	Values Expr
}

// Context is "the entity being evaluated", when it is of type Type
// (PermissionExpressionStack, ...Environment, ...InsightsAccount, ...Team).
type Context struct{ Type gatehouse.EntityType }

// Tag is the value of tag Key on the context entity (PermissionExpressionTag).
type Tag struct {
	Context *Context
	Key     string
}

// String is a string literal (PermissionLiteralExpressionString).
type String struct{ Value string }

// Number is a number literal (PermissionLiteralExpressionNumber).
type Number struct{ Value float64 }

// Bool is a boolean literal (PermissionLiteralExpressionBool).
type Bool struct{ Value bool }

// EntityLit names one entity by UUID (PermissionLiteralExpressionStack, ...).
type EntityLit struct {
	Type gatehouse.EntityType
	ID   string
}

// StringSet is a set of strings (PermissionSetExpressionString).
type StringSet struct{ Values []string }

// EntitySet is a set of entities of one type (PermissionSetExpressionStack, ...).
type EntitySet struct {
	Type gatehouse.EntityType
	IDs  []string
}

func (*And) isExpr()       {}
func (*Or) isExpr()        {}
func (*Not) isExpr()       {}
func (*Equal) isExpr()     {}
func (*HasTag) isExpr()    {}
func (*In) isExpr()        {}
func (*Context) isExpr()   {}
func (*Tag) isExpr()       {}
func (*String) isExpr()    {}
func (*Number) isExpr()    {}
func (*Bool) isExpr()      {}
func (*EntityLit) isExpr() {}
func (*StringSet) isExpr() {}
func (*EntitySet) isExpr() {}

// Descriptor is a stored permission descriptor as the engine needs it: a
// role, permission set or policy with its decoded tree.
type Descriptor struct {
	ID   string
	Name string
	// Purpose is the uxPurpose: "role", "set", "policy", ...
	Purpose string
	// ResourceType is the entity type a permission set is for; roles and
	// policies are global.
	ResourceType gatehouse.EntityType
	Details      Node
}

// Lookup resolves a Compose reference to its descriptor.
type Lookup func(id string) (*Descriptor, bool)

// Wire names of the __type discriminator.
const (
	typeAllow      = "PermissionDescriptorAllow"
	typeGroup      = "PermissionDescriptorGroup"
	typeCompose    = "PermissionDescriptorCompose"
	typeCondition  = "PermissionDescriptorCondition"
	typeIfThenElse = "PermissionDescriptorIfThenElse"
	typeSelect     = "PermissionDescriptorSelect"
	typeAnd        = "PermissionExpressionAnd"
	typeOr         = "PermissionExpressionOr"
	typeNot        = "PermissionExpressionNot"
	typeEqual      = "PermissionExpressionEqual"
	typeHasTag     = "PermissionExpressionHasTag"
	typeIn         = "PermissionExpressionIn"
	typeTag        = "PermissionExpressionTag"
	typeString     = "PermissionLiteralExpressionString"
	typeNumber     = "PermissionLiteralExpressionNumber"
	typeBool       = "PermissionLiteralExpressionBool"
	typeStringSet  = "PermissionSetExpressionString"
)

// Per entity type: the context, literal and set __type names.
var (
	contextTypes = map[gatehouse.EntityType]string{
		gatehouse.EntityStack: "PermissionExpressionStack", gatehouse.EntityEnvironment: "PermissionExpressionEnvironment",
		gatehouse.EntityInsightsAccount: "PermissionExpressionInsightsAccount", gatehouse.EntityTeam: "PermissionExpressionTeam",
	}
	literalTypes = map[gatehouse.EntityType]string{
		gatehouse.EntityStack: "PermissionLiteralExpressionStack", gatehouse.EntityEnvironment: "PermissionLiteralExpressionEnvironment",
		gatehouse.EntityInsightsAccount: "PermissionLiteralExpressionInsightsAccount", gatehouse.EntityTeam: "PermissionLiteralExpressionTeam",
	}
	setTypes = map[gatehouse.EntityType]string{
		gatehouse.EntityStack: "PermissionSetExpressionStack", gatehouse.EntityEnvironment: "PermissionSetExpressionEnvironment",
		gatehouse.EntityInsightsAccount: "PermissionSetExpressionInsightsAccount", gatehouse.EntityTeam: "PermissionSetExpressionTeam",
	}
)

func reverse(m map[gatehouse.EntityType]string) map[string]gatehouse.EntityType {
	r := make(map[string]gatehouse.EntityType, len(m))
	for k, v := range m {
		r[v] = k
	}
	return r
}

var (
	contextByName = reverse(contextTypes)
	literalByName = reverse(literalTypes)
	setByName     = reverse(setTypes)
)
