package service

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"

	"github.com/gatehouse-iam/gatehouse"
)

// Stack names follow Pulumi's rules.
var (
	stackNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
	tagNameRE   = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,40}$`)
)

// ProjectTag is the built-in tag every stack has: its project. It cannot
// be set or removed.
const ProjectTag = "pulumi:project"

// checkStackName checks a stack, project, environment, account or version
// tag name: Pulumi's characters, and not "." or "..", which are path
// segments in every URL that names the entity (a client or proxy resolves
// them away: the request would reach another route).
func checkStackName(field, v string) error {
	if v == "." || v == ".." {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q is a path segment, not a name", field, v)
	}
	if !stackNameRE.MatchString(v) {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q must be 1 to 100 letters, digits, '_', '.' or '-'", field, v)
	}
	return nil
}

// checkTags validates user tags as Pulumi does and drops the built-in
// project tag, which always follows the stack's project.
func checkTags(tags map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(tags))
	for k, v := range tags {
		if k == ProjectTag {
			continue
		}
		if !tagNameRE.MatchString(k) {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "tags: name %q must be 1 to 40 letters, digits, or '_', '.', ':', '/', '-'", k)
		}
		if len(v) > 256 {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "tags: the value of %q is %d characters, over the limit of 256", k, len(v))
		}
		out[k] = v
	}
	if len(out) > 100 {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "tags: %d tags, over the limit of 100", len(out))
	}
	return out, nil
}

// StackTags returns a stack's tags as the CLI sees them: its own plus the
// built-in project tag.
func StackTags(st *gatehouse.Stack) map[string]string {
	out := maps.Clone(st.Tags)
	if out == nil {
		out = map[string]string{}
	}
	out[ProjectTag] = st.Project
	return out
}

// StackInput describes a new stack.
type StackInput struct {
	Project, Name string
	Tags          map[string]string
	// Teams are given Stack Write on the new stack.
	Teams []string
	// MayGrantTeams says the caller holds team:update; without it, the
	// caller may name only teams it administers.
	MayGrantTeams bool
}

// CreateStack creates a stack with its data key. A user who creates it
// holds Stack Admin on it (through Stack.CreatedBy); a team token's team
// is granted Stack Admin on it.
func (s *Service) CreateStack(ctx context.Context, orgID string, by *gatehouse.Identity, in StackInput) (*gatehouse.Stack, error) {
	return batchOne(ctx, s, orgID, func(b *Batch) (*gatehouse.Stack, error) { return b.CreateStack(by, in) })
}

func (s *Service) createStackTx(ctx context.Context, tx gatehouse.Tx, orgID string, by *gatehouse.Identity, in StackInput) (*gatehouse.Stack, error) {
	if err := checkStackName("projectName", in.Project); err != nil {
		return nil, err
	}
	if err := checkStackName("stackName", in.Name); err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	if s.Keys == nil {
		return nil, gatehouse.Errorf(gatehouse.EINTERNAL, "no master key is configured")
	}
	st := &gatehouse.Stack{ID: gatehouse.NewID(), OrgID: orgID, Project: in.Project, Name: in.Name, Tags: tags}
	if by.User != nil {
		st.CreatedBy = by.User.ID
	}
	_, wrapped, err := s.Keys.NewStackKey(st.ID)
	if err != nil {
		return nil, err
	}
	if err := s.checkQuota(ctx, tx, orgID, quotaStacks); err != nil {
		return nil, err
	}
	if err := tx.CreateStack(ctx, st); err != nil {
		return nil, err
	}
	if err := tx.PutStackKey(ctx, st.ID, wrapped); err != nil {
		return nil, err
	}
	if err := s.grantNewStack(ctx, tx, st, by, in); err != nil {
		return nil, err
	}
	return st, s.audit(ctx, tx, orgID, gatehouse.EventStackCreated, st.ID, map[string]any{"tags": tags, "teams": in.Teams},
		"created stack %s/%s", st.Project, st.Name)
}

// grantNewStack gives a team token's team Stack Admin on the new stack and
// the teams the input names Stack Write.
func (s *Service) grantNewStack(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, by *gatehouse.Identity, in StackInput) error {
	orgID := st.OrgID
	if by.Token.Kind == gatehouse.TokenTeam {
		t, err := tx.GetTeamByID(ctx, by.Token.TeamID)
		if err != nil {
			return err
		}
		if err := putTeamGrant(ctx, tx, orgID, t, gatehouse.EntityStack, st.Project, st.Name, "stack-admin", "103", 0); err != nil {
			return err
		}
	}
	for _, name := range in.Teams {
		t, err := teamByName(ctx, tx, orgID, name)
		if err != nil {
			return gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "teams: team %q not found", name)
		}
		if !in.MayGrantTeams && !administers(ctx, tx, t.ID, by) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "teams: giving team %q access needs the team:update scope or being the team's admin", name)
		}
		if err := s.checkNewStackGrant(ctx, tx, st, name, "stack-write"); err != nil {
			return err
		}
		if err := putTeamGrant(ctx, tx, orgID, t, gatehouse.EntityStack, st.Project, st.Name, "stack-write", "102", 0); err != nil {
			return err
		}
	}
	return nil
}

func administers(ctx context.Context, tx gatehouse.Tx, teamID string, by *gatehouse.Identity) bool {
	if by.User == nil {
		return false
	}
	ms, err := tx.ListTeamMembers(ctx, teamID)
	if err != nil {
		return false
	}
	for _, m := range ms {
		if m.UserID == by.User.ID && m.Role == gatehouse.TeamRoleAdmin {
			return true
		}
	}
	return false
}

// Stack returns a stack by project and name.
func (s *Service) Stack(ctx context.Context, orgID, project, name string) (st *gatehouse.Stack, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		st, err = tx.GetStack(ctx, orgID, project, name)
		return err
	})
	return st, err
}

// StackHeads returns the latest versions of stacks, by id.
func (s *Service) StackHeads(ctx context.Context, orgID string, ids []string) (heads map[string]gatehouse.StackHead, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		heads, err = tx.StackHeads(ctx, orgID, ids)
		return err
	})
	return heads, err
}

// errHasResources is the message the pulumi CLI looks for to offer --force.
var errHasResources = gatehouse.Errorf(gatehouse.EINVALID, "Bad Request: Stack still contains resources.")

// DeleteStack deletes a stack with its history, keys and grants. Without
// force, a stack whose state still holds resources is kept.
func (s *Service) DeleteStack(ctx context.Context, st *gatehouse.Stack, force bool) error {
	return s.Batch(ctx, st.OrgID, func(b *Batch) error { return b.DeleteStack(st, force) })
}

func (s *Service) deleteStackTx(ctx context.Context, tx gatehouse.Tx, orgID string, st *gatehouse.Stack, force bool) error {
	cur, err := orgStack(ctx, tx, orgID, st.ID)
	if err != nil {
		return err
	}
	if cur.ActiveUpdate != "" && cur.LeaseExpiry.After(s.Now()) && !force {
		return gatehouse.Errorf(gatehouse.ECONFLICT, "an update of stack %s/%s is in progress; cancel it first", cur.Project, cur.Name)
	}
	if !force && cur.Version > 0 {
		cp, err := tx.GetCheckpoint(ctx, cur.ID, 0)
		if err != nil {
			return err
		}
		if resourceCount(cp.Data) > 0 {
			return errHasResources
		}
	}
	if err := tx.DeleteStack(ctx, cur.ID); err != nil {
		return err
	}
	s.forgetKey(cur.ID)
	return s.audit(ctx, tx, cur.OrgID, gatehouse.EventStackDeleted, cur.ID, map[string]any{"force": force, "version": cur.Version},
		"deleted stack %s/%s", cur.Project, cur.Name)
}

// orgStack reads a stack of the organization by id: a Batch of one
// organization cannot reach another's stack.
func orgStack(ctx context.Context, tx gatehouse.Tx, orgID, id string) (*gatehouse.Stack, error) {
	st, err := tx.GetStackByID(ctx, id)
	if err == nil && st.OrgID != orgID {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "stack %q not found", id)
	}
	return st, err
}

// resourceCount counts the resources of a checkpoint (an untyped
// deployment); 0 when it holds none or cannot be read.
func resourceCount(data []byte) int {
	var d struct {
		Deployment struct {
			Resources []skipJSON `json:"resources"`
		} `json:"deployment"`
	}
	if json.Unmarshal(data, &d) != nil {
		return 0
	}
	return len(d.Deployment.Resources)
}

// skipJSON decodes any JSON value into nothing: counting a checkpoint's
// resources copies none of them.
type skipJSON struct{}

// UnmarshalJSON ignores the value.
func (*skipJSON) UnmarshalJSON([]byte) error { return nil }

// RenameStack moves a stack to a new name and, optionally, project.
func (s *Service) RenameStack(ctx context.Context, st *gatehouse.Stack, newProject, newName string) error {
	return s.Batch(ctx, st.OrgID, func(b *Batch) error { return b.RenameStack(st, newProject, newName) })
}

func (s *Service) renameStackTx(ctx context.Context, tx gatehouse.Tx, orgID string, st *gatehouse.Stack, newProject, newName string) error {
	if newProject == "" {
		newProject = st.Project
	}
	if err := checkStackName("newProject", newProject); err != nil {
		return err
	}
	if err := checkStackName("newName", newName); err != nil {
		return err
	}
	cur, err := orgStack(ctx, tx, orgID, st.ID)
	if err != nil {
		return err
	}
	old := cur.Project + "/" + cur.Name
	cur.Project, cur.Name = newProject, newName
	if err := tx.UpdateStack(ctx, cur); err != nil {
		return err
	}
	return s.audit(ctx, tx, cur.OrgID, gatehouse.EventStackRenamed, cur.ID, map[string]string{"from": old, "to": newProject + "/" + newName},
		"renamed stack %s to %s/%s", old, newProject, newName)
}

// TagUpdate is one change to a stack's tags.
type TagUpdate struct {
	// Replace, when not nil, replaces every tag.
	Replace map[string]string
	// Merge, when not nil, adds and changes tags and removes none; a
	// built-in tag in it is ignored.
	Merge map[string]string
	// Set adds or changes one tag; Add refuses an existing one.
	Set, Add   *[2]string
	Delete     string
	FromUpdate bool
}

// applyTags applies a change to an entity's tags and says whether they
// changed. builtin, when not empty, names a tag that is always builtinValue
// and cannot be set or removed. Adding a tag that exists is an error of
// code dup (Pulumi answers 400 for stacks, 409 for environments).
func applyTags(cur map[string]string, c TagUpdate, builtin, builtinValue, dup string) (map[string]string, bool, error) {
	tags := maps.Clone(cur)
	if tags == nil {
		tags = map[string]string{}
	}
	var err error
	switch {
	case c.Replace != nil:
		if v, ok := c.Replace[builtin]; builtin != "" && ok && v != builtinValue {
			return nil, false, gatehouse.Errorf(gatehouse.EINVALID, "tags: %s is built in and always %q", builtin, builtinValue)
		}
		if tags, err = checkTags(c.Replace); err != nil {
			return nil, false, err
		}
	case c.Merge != nil:
		for k, v := range c.Merge {
			if builtin == "" || k != builtin {
				tags[k] = v
			}
		}
		if tags, err = checkTags(tags); err != nil {
			return nil, false, err
		}
	case c.Set != nil || c.Add != nil:
		kv := c.Set
		if kv == nil {
			kv = c.Add
		}
		if builtin != "" && kv[0] == builtin {
			return nil, false, gatehouse.Errorf(gatehouse.EINVALID, "name: %s is built in and cannot be changed", builtin)
		}
		_, ok := tags[kv[0]]
		if ok && c.Add != nil {
			return nil, false, gatehouse.Errorf(dup, "name: a tag %q exists already", kv[0])
		}
		if !ok && c.Set != nil {
			return nil, false, gatehouse.Errorf(gatehouse.ENOTFOUND, "tag %q not found", kv[0])
		}
		tags[kv[0]] = kv[1]
		if tags, err = checkTags(tags); err != nil {
			return nil, false, err
		}
	case c.Delete != "":
		if builtin != "" && c.Delete == builtin {
			return nil, false, gatehouse.Errorf(gatehouse.EINVALID, "tagName: %s is built in and cannot be removed", builtin)
		}
		if _, ok := tags[c.Delete]; !ok {
			return nil, false, gatehouse.Errorf(gatehouse.ENOTFOUND, "tag %q not found", c.Delete)
		}
		delete(tags, c.Delete)
	}
	if maps.Equal(tags, cur) || (len(tags) == 0 && len(cur) == 0) {
		return cur, false, nil
	}
	return tags, true, nil
}

// ChangeStackTags applies a change to a stack's tags. The built-in project
// tag cannot change.
func (s *Service) ChangeStackTags(ctx context.Context, st *gatehouse.Stack, c TagUpdate) error {
	changed := false
	err := s.store.Write(ctx, func(tx gatehouse.Tx) (err error) {
		if err := tx.LockOrg(ctx, st.OrgID); err != nil {
			return err
		}
		changed, err = s.changeStackTagsTx(ctx, tx, st, c)
		return err
	})
	if err != nil || !changed {
		return err
	}
	return s.az.Refresh(ctx, st.OrgID)
}

// changeStackTagsTx is ChangeStackTags in a transaction; it reports
// whether the tags changed (the snapshot is then to be refreshed).
func (s *Service) changeStackTagsTx(ctx context.Context, tx gatehouse.Tx, st *gatehouse.Stack, c TagUpdate) (bool, error) {
	cur, err := tx.GetStackByID(ctx, st.ID)
	if err != nil {
		return false, err
	}
	tags, ok, err := s.retag(ctx, cur.OrgID, gatehouse.EntityRef{Type: gatehouse.EntityStack, ID: cur.ID}, cur.Tags, c, ProjectTag, cur.Project, gatehouse.EINVALID)
	if err != nil || !ok {
		return false, err
	}
	before := cur.Tags
	cur.Tags = tags
	if err := tx.UpdateStack(ctx, cur); err != nil {
		return false, err
	}
	return true, s.audit(ctx, tx, cur.OrgID, gatehouse.EventStackTagsChanged, cur.ID, map[string]any{"before": before, "after": tags, "fromUpdate": c.FromUpdate},
		"changed the tags of stack %s/%s", cur.Project, cur.Name)
}

// retag applies a change to an entity's tags (applyTags) and checks the
// result against the organization's rules; ok is false when the tags stay
// as they are.
func (s *Service) retag(ctx context.Context, orgID string, e gatehouse.EntityRef, cur map[string]string, c TagUpdate, builtin, builtinValue, dup string) (map[string]string, bool, error) {
	tags, ok, err := applyTags(cur, c, builtin, builtinValue, dup)
	if err != nil || !ok {
		return nil, false, err
	}
	if err := s.checkRetag(ctx, orgID, e.Type, e.ID, cur, tags); err != nil {
		return nil, false, err
	}
	return tags, true, nil
}
