package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/state"
)

// Stack names follow Pulumi's rules.
var (
	stackNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)
	tagNameRE   = regexp.MustCompile(`^[A-Za-z0-9_.:/-]{1,40}$`)
)

// ProjectTag is the built-in tag every stack has: its project. It cannot
// be set or removed.
const ProjectTag = "pulumi:project"

// LeaseDuration is how long an update's lease lasts unless renewed; the
// pulumi CLI renews it well before.
const (
	LeaseDuration    = 5 * time.Minute
	MaxLeaseDuration = time.Hour
)

func checkStackName(field, v string) error {
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
	err = s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		if err := s.checkQuota(ctx, tx, orgID, quotaStacks); err != nil {
			return err
		}
		if err := tx.CreateStack(ctx, st); err != nil {
			return err
		}
		if err := tx.PutStackKey(ctx, st.ID, wrapped); err != nil {
			return err
		}
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
				return gatehouse.Errorf(gatehouse.EINVALID, "teams: team %q not found", name)
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
		return s.audit(ctx, tx, orgID, gatehouse.EventStackCreated, st.ID, map[string]any{"tags": tags, "teams": in.Teams},
			"created stack %s/%s", st.Project, st.Name)
	})
	return st, err
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
	return s.write(ctx, st.OrgID, func(tx gatehouse.Tx) error {
		cur, err := tx.GetStackByID(ctx, st.ID)
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
	})
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
	if newProject == "" {
		newProject = st.Project
	}
	if err := checkStackName("newProject", newProject); err != nil {
		return err
	}
	if err := checkStackName("newName", newName); err != nil {
		return err
	}
	return s.write(ctx, st.OrgID, func(tx gatehouse.Tx) error {
		cur, err := tx.GetStackByID(ctx, st.ID)
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
	})
}

// TagChange is one change to a stack's tags.
type TagChange struct {
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
func applyTags(cur map[string]string, c TagChange, builtin, builtinValue, dup string) (map[string]string, bool, error) {
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
func (s *Service) ChangeStackTags(ctx context.Context, st *gatehouse.Stack, c TagChange) error {
	changed := false
	err := s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		cur, err := tx.GetStackByID(ctx, st.ID)
		if err != nil {
			return err
		}
		tags, ok, err := applyTags(cur.Tags, c, ProjectTag, cur.Project, gatehouse.EINVALID)
		if err != nil || !ok {
			return err
		}
		if err := s.checkRetag(ctx, cur.OrgID, gatehouse.EntityStack, cur.ID, cur.Tags, tags); err != nil {
			return err
		}
		before := cur.Tags
		cur.Tags = tags
		if err := tx.UpdateStack(ctx, cur); err != nil {
			return err
		}
		changed = true
		return s.audit(ctx, tx, cur.OrgID, gatehouse.EventStackTagsChanged, cur.ID, map[string]any{"before": before, "after": tags, "fromUpdate": c.FromUpdate},
			"changed the tags of stack %s/%s", cur.Project, cur.Name)
	})
	if err != nil || !changed {
		return err
	}
	return s.Authz.Refresh(ctx, st.OrgID)
}

// --- secrets

// keyCache holds opened data keys, so that encrypting and decrypting skip
// the database and the unwrap; bounded, it starts over when full.
type keyCache struct {
	mu   sync.Mutex
	keys map[string]gatehouse.DataKey
}

const maxCachedKeys = 10000

// dataKey opens a stack's data key. A stack from before keys existed gets
// one now.
func (s *Service) dataKey(ctx context.Context, stackID string) (gatehouse.DataKey, error) {
	return s.openKey(ctx, stackID, "stack", func(tx gatehouse.Tx) ([]byte, error) { return tx.GetStackKey(ctx, stackID) },
		func(tx gatehouse.Tx, wrapped []byte) error { return tx.PutStackKey(ctx, stackID, wrapped) })
}

// openKey opens the data key wrapped for keyID (the owner it is bound to),
// from the cache or as load reads it. When there is none and create is
// given, a new key is stored; a racing writer's key wins and is read back.
func (s *Service) openKey(ctx context.Context, keyID, owner string, load func(gatehouse.Tx) ([]byte, error), create func(gatehouse.Tx, []byte) error) (gatehouse.DataKey, error) {
	s.keys.mu.Lock()
	k := s.keys.keys[keyID]
	s.keys.mu.Unlock()
	if k != nil {
		return k, nil
	}
	if s.Keys == nil {
		return nil, gatehouse.Errorf(gatehouse.EINTERNAL, "no master key is configured")
	}
	var wrapped []byte
	read := func() (err error) {
		return s.read(ctx, func(tx gatehouse.Tx) (err error) { wrapped, err = load(tx); return err })
	}
	err := read()
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND && create != nil {
		var fresh []byte
		if _, fresh, err = s.Keys.NewStackKey(keyID); err != nil {
			return nil, err
		}
		err = s.Store.Write(ctx, func(tx gatehouse.Tx) error { return create(tx, fresh) })
		if err == nil || gatehouse.ErrorCode(err) == gatehouse.ECONFLICT {
			err = read()
		}
	}
	if err != nil {
		return nil, err
	}
	if k, err = s.Keys.OpenStackKey(keyID, wrapped); err != nil {
		// Never the key or the error's details: a wrong master key.
		return nil, gatehouse.Errorf(gatehouse.EINTERNAL, "the %s's data key does not open under the configured master key", owner)
	}
	s.keys.mu.Lock()
	if s.keys.keys == nil || len(s.keys.keys) >= maxCachedKeys {
		s.keys.keys = map[string]gatehouse.DataKey{}
	}
	s.keys.keys[keyID] = k
	s.keys.mu.Unlock()
	return k, nil
}

func (s *Service) forgetKey(keyID string) {
	s.keys.mu.Lock()
	delete(s.keys.keys, keyID)
	s.keys.mu.Unlock()
}

// MaxSecrets bounds a batch of values to encrypt or decrypt.
const MaxSecrets = 10000

// Encrypt seals values under the stack's data key.
func (s *Service) Encrypt(ctx context.Context, st *gatehouse.Stack, plaintexts [][]byte) ([][]byte, error) {
	if len(plaintexts) > MaxSecrets {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "plaintexts: %d values, over the limit of %d", len(plaintexts), MaxSecrets)
	}
	k, err := s.dataKey(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(plaintexts))
	for i, p := range plaintexts {
		out[i] = k.Encrypt(p)
	}
	return out, nil
}

// Decrypt opens values sealed under the stack's data key. A value that does
// not open (another stack's, tampered) is an error naming its position.
func (s *Service) Decrypt(ctx context.Context, st *gatehouse.Stack, ciphertexts [][]byte) ([][]byte, error) {
	if len(ciphertexts) > MaxSecrets {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ciphertexts: %d values, over the limit of %d", len(ciphertexts), MaxSecrets)
	}
	k, err := s.dataKey(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(ciphertexts))
	for i, c := range ciphertexts {
		if out[i], err = k.Decrypt(c); err != nil {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "ciphertext %d: does not decrypt under this stack's key (another stack's value, or changed)", i)
		}
	}
	return out, nil
}

// --- checkpoints, export and import

// Export returns a version of the stack's deployment (0: the current one),
// as stored.
func (s *Service) Export(ctx context.Context, st *gatehouse.Stack, version int) ([]byte, error) {
	var data []byte
	err := s.read(ctx, func(tx gatehouse.Tx) error {
		cur, err := tx.GetStackByID(ctx, st.ID)
		if err != nil {
			return err
		}
		if version < 0 || version > cur.Version {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "stack %s/%s has no version %d", cur.Project, cur.Name, version)
		}
		if cur.Version == 0 {
			data = []byte(`{"version":3,"deployment":{}}`)
			return nil
		}
		cp, err := tx.GetCheckpoint(ctx, st.ID, version)
		if err != nil {
			return err
		}
		data = cp.Data
		return nil
	})
	return data, err
}

// checkDeployment checks that data is an untyped deployment: valid JSON,
// an object with a schema version. It scans the text twice at most: once to
// validate it (json.Valid), once to find the top-level version.
func checkDeployment(field string, data []byte, limit int) error {
	if len(data) > limit {
		return gatehouse.Errorf(gatehouse.ETOOLARGE, "%s: %d bytes, over the checkpoint limit of %d", field, len(data), limit)
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v) // for the message only
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: not a deployment: %v", field, err)
	}
	if !hasTopLevelNumber(data, "version") {
		return gatehouse.Errorf(gatehouse.EINVALID, "%s: a deployment is a JSON object with its schema version", field)
	}
	return nil
}

// hasTopLevelNumber reports whether valid JSON data is an object whose
// member key (spelt without escapes) is a number.
func hasTopLevelNumber(data []byte, key string) bool {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	depth, inString, escaped, keyStart := 0, false, false, -1
	expectKey := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if keyStart >= 0 {
					if string(data[keyStart:i]) == key {
						rest := bytes.TrimLeft(data[i+1:], " \t\r\n")
						rest = bytes.TrimLeft(bytes.TrimPrefix(rest, []byte(":")), " \t\r\n")
						return len(rest) > 0 && (rest[0] == '-' || (rest[0] >= '0' && rest[0] <= '9'))
					}
					keyStart = -1
				}
			}
			continue
		}
		switch c {
		case '"':
			inString = true
			if depth == 1 && expectKey {
				keyStart = i + 1
				expectKey = false
			}
		case '{', '[':
			depth++
			expectKey = depth == 1 && c == '{'
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		}
	}
	return false
}

// Import stores a deployment as the stack's next version, through an
// update of kind import that completes at once; it waits for no lease but
// refuses while another update holds one.
func (s *Service) Import(ctx context.Context, st *gatehouse.Stack, by *gatehouse.Identity, data []byte) (*gatehouse.StackUpdate, error) {
	if err := checkDeployment("deployment", data, s.CheckpointLimit()); err != nil {
		return nil, err
	}
	now := s.Now()
	u := &gatehouse.StackUpdate{StackID: st.ID, Kind: gatehouse.UpdateKindImport, Status: gatehouse.UpdateSucceeded,
		StarterDigest: by.Token.Digest, Started: now, Finished: now}
	err := s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		u.ID = gatehouse.NewID()
		if err := tx.AcquireStackLease(ctx, st.ID, u.ID, now.Add(time.Minute), now); err != nil {
			return err
		}
		cur, err := tx.GetStackByID(ctx, st.ID)
		if err != nil {
			return err
		}
		u.Version = cur.Version + 1
		u.Info, _ = json.Marshal(UpdateInfo{Message: "import", ResourceCount: resourceCount(data)})
		if err := tx.CreateUpdate(ctx, u); err != nil {
			return err
		}
		if err := tx.SaveCheckpoint(ctx, &gatehouse.Checkpoint{StackID: st.ID, Version: u.Version, Data: data}); err != nil {
			return err
		}
		if err := tx.ReleaseStackLease(ctx, st.ID, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, st.OrgID, gatehouse.EventStackImported, st.ID, map[string]int{"version": u.Version},
			"imported a deployment into stack %s/%s as version %d", cur.Project, cur.Name, u.Version)
	})
	return u, err
}

// --- the update lifecycle

// UpdateInfo is what an update records beyond its columns, as JSON in
// StackUpdate.Info.
type UpdateInfo struct {
	Program         json.RawMessage   `json:"program,omitempty"`
	Message         string            `json:"message,omitempty"`
	Environment     map[string]string `json:"environment,omitempty"`
	Config          json.RawMessage   `json:"config,omitempty"`
	ResourceChanges map[string]int    `json:"resourceChanges,omitempty"`
	ResourceCount   int               `json:"resourceCount,omitempty"`
	Author          string            `json:"author,omitempty"`
}

// InfoOf decodes an update's recorded details.
func InfoOf(u *gatehouse.StackUpdate) UpdateInfo {
	var i UpdateInfo
	json.Unmarshal(u.Info, &i)
	return i
}

// ProgramRequest is what the CLI says about an update when creating it.
type ProgramRequest struct {
	Raw         json.RawMessage // the whole request, kept
	Name        string          // the program's project
	Message     string
	Environment map[string]string
	Config      json.RawMessage
}

// CreateUpdate records a new update, preview, refresh or destroy, not yet
// started.
func (s *Service) CreateUpdate(ctx context.Context, st *gatehouse.Stack, by *gatehouse.Identity, kind string, p ProgramRequest) (*gatehouse.StackUpdate, error) {
	switch kind {
	case gatehouse.UpdateKindUpdate, gatehouse.UpdateKindPreview, gatehouse.UpdateKindRefresh, gatehouse.UpdateKindDestroy:
	default:
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "update kind: %q is not update, preview, refresh or destroy", kind)
	}
	if p.Name != st.Project {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "name: the program's project %q is not the stack's project %q", p.Name, st.Project)
	}
	info, _ := json.Marshal(UpdateInfo{Program: p.Raw, Message: p.Message, Environment: p.Environment, Config: p.Config, Author: by.Actor()})
	u := &gatehouse.StackUpdate{StackID: st.ID, Kind: kind, Status: gatehouse.UpdateNotStarted, Info: info, StarterDigest: by.Token.Digest}
	err := s.Store.Write(ctx, func(tx gatehouse.Tx) error { return tx.CreateUpdate(ctx, u) })
	return u, err
}

// Update returns one of a stack's updates.
func (s *Service) Update(ctx context.Context, st *gatehouse.Stack, id string) (u *gatehouse.StackUpdate, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		u, err = tx.GetUpdate(ctx, id)
		if err == nil && u.StackID != st.ID {
			err = gatehouse.Errorf(gatehouse.ENOTFOUND, "update not found")
		}
		return err
	})
	return u, err
}

// Started is what starting an update returns: the version it will write,
// and its lease.
type Started struct {
	Version int
	Token   string
	Expires time.Time
}

func newLeaseToken() (string, []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	v := hex.EncodeToString(b[:])
	return v, gatehouse.TokenDigest(v)
}

// StartUpdate starts an update: it takes the stack's lease (one update at
// a time; an expired lease is taken over and its update marked failed),
// and returns the lease token that authenticates the update's requests.
// The tags the CLI sends are merged into the stack's when setTags is true
// (the caller holds stack_tags:update).
func (s *Service) StartUpdate(ctx context.Context, st *gatehouse.Stack, id string, by *gatehouse.Identity, tags map[string]string, setTags bool) (*Started, error) {
	now := s.Now()
	token, digest := newLeaseToken()
	out := &Started{Token: token, Expires: now.Add(LeaseDuration)}
	if setTags && len(tags) > 0 {
		if err := s.checkUpdateTags(ctx, st, tags); err != nil {
			return nil, err
		}
	}
	err := s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		u, err := tx.GetUpdate(ctx, id)
		if err != nil || u.StackID != st.ID {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "update not found")
		}
		if u.Status != gatehouse.UpdateNotStarted {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "the update is %s, not waiting to start", u.Status)
		}
		if !bytes.Equal(u.StarterDigest, by.Token.Digest) {
			return gatehouse.Errorf(gatehouse.EFORBIDDEN, "the update was created with another access token")
		}
		cur, err := tx.GetStackByID(ctx, st.ID)
		if err != nil {
			return err
		}
		// A preview writes nothing: it runs beside an update and holds a
		// lease of its own, not the stack's, so that a reader cannot keep
		// writers out by previewing.
		if u.Kind != gatehouse.UpdateKindPreview {
			if err := tx.AcquireStackLease(ctx, st.ID, u.ID, out.Expires, now); err != nil {
				return err
			}
		}
		if u.Kind != gatehouse.UpdateKindPreview && cur.ActiveUpdate != "" && cur.ActiveUpdate != u.ID {
			// Its lease lapsed: the CLI that held it is gone.
			if old, err := tx.GetUpdate(ctx, cur.ActiveUpdate); err == nil && old.Status == gatehouse.UpdateRunning {
				old.Status, old.Finished, old.LeaseDigest = gatehouse.UpdateFailed, now, nil
				if err := tx.SaveUpdate(ctx, old); err != nil {
					return err
				}
			}
		}
		u.Status, u.Started, u.LeaseDigest, u.LeaseExpiry = gatehouse.UpdateRunning, now, digest, out.Expires
		u.Version = cur.Version + 1
		if u.Kind == gatehouse.UpdateKindPreview {
			u.Version = cur.Version
		}
		out.Version = u.Version
		return tx.SaveUpdate(ctx, u)
	})
	if err != nil {
		return nil, err
	}
	if setTags && len(tags) > 0 {
		// Merged, not replaced: the CLI sends the stack's tags with the
		// program's, and a tag an update leaves out is not one it removes.
		if err := s.ChangeStackTags(ctx, st, TagChange{Merge: tags, FromUpdate: true}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Leased authenticates a request made with an update's lease token: the
// update must be running, hold the stack's lease, and the token must be
// its lease's. It returns the update and the identity of the token that
// started it, which must still be valid: revoking it stops the update.
func (s *Service) Leased(ctx context.Context, stackID, updateID, lease string) (*gatehouse.StackUpdate, *gatehouse.Identity, error) {
	var u *gatehouse.StackUpdate
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) {
		u, err = tx.GetUpdate(ctx, updateID)
		return err
	})
	unauth := func(why string) error { return gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "update token: %s", why) }
	if err != nil || u.StackID != stackID {
		return nil, nil, unauth("no such update of this stack")
	}
	if subtle.ConstantTimeCompare(u.LeaseDigest, gatehouse.TokenDigest(lease)) != 1 {
		return nil, nil, unauth("not this update's lease")
	}
	if u.Status != gatehouse.UpdateRunning {
		return nil, nil, unauth("the update is " + u.Status)
	}
	if !s.Now().Before(u.LeaseExpiry) {
		return nil, nil, unauth("the lease expired")
	}
	id, err := s.Authz.AuthenticateDigest(u.StarterDigest)
	if err != nil {
		return nil, nil, unauth("the access token that started the update is no longer valid")
	}
	return u, id, nil
}

// RenewLease extends a running update's lease.
func (s *Service) RenewLease(ctx context.Context, u *gatehouse.StackUpdate, d time.Duration) (time.Time, error) {
	if d <= 0 {
		d = LeaseDuration
	}
	d = min(d, MaxLeaseDuration)
	now := s.Now()
	expiry := now.Add(d)
	err := s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		if u.Kind != gatehouse.UpdateKindPreview {
			if err := tx.AcquireStackLease(ctx, u.StackID, u.ID, expiry, now); err != nil {
				return gatehouse.Errorf(gatehouse.ECONFLICT, "the update lost the stack's lease")
			}
		}
		cur, err := tx.GetUpdate(ctx, u.ID)
		if err != nil {
			return err
		}
		cur.LeaseExpiry = expiry
		return tx.SaveUpdate(ctx, cur)
	})
	return expiry, err
}

// holding re-reads the update and its stack in a write, checking that the
// update still runs and holds the lease.
func (s *Service) holding(ctx context.Context, tx gatehouse.Tx, id string) (*gatehouse.StackUpdate, *gatehouse.Stack, error) {
	u, err := tx.GetUpdate(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	st, err := tx.GetStackByID(ctx, u.StackID)
	if err != nil {
		return nil, nil, err
	}
	if u.Status != gatehouse.UpdateRunning || (u.Kind != gatehouse.UpdateKindPreview && st.ActiveUpdate != u.ID) {
		return nil, nil, gatehouse.Errorf(gatehouse.ECONFLICT, "the update no longer holds the stack's lease")
	}
	return u, st, nil
}

// saveCheckpoint writes the update's checkpoint: the first makes the
// stack's next version, later ones replace it; each in one transaction,
// so that a crash leaves the previous one whole.
func saveCheckpoint(ctx context.Context, tx gatehouse.Tx, u *gatehouse.StackUpdate, st *gatehouse.Stack, data []byte) error {
	cp := &gatehouse.Checkpoint{StackID: st.ID, Version: u.Version, Data: data}
	switch st.Version {
	case u.Version - 1:
		return tx.SaveCheckpoint(ctx, cp)
	case u.Version:
		return tx.ReplaceCheckpoint(ctx, cp)
	}
	return gatehouse.Errorf(gatehouse.ECONFLICT, "the stack is at version %d; this update writes version %d", st.Version, u.Version)
}

// saveCheckpoint is saveCheckpoint for an update's own checkpoint writes:
// the first, which makes the stack's new version, is audited, so that an
// update that never completes is in the audit log too; later ones replace
// that version and are not (one event per update and version, not one per
// checkpoint).
func (s *Service) saveCheckpoint(ctx context.Context, tx gatehouse.Tx, u *gatehouse.StackUpdate, st *gatehouse.Stack, data []byte) error {
	first := st.Version == u.Version-1
	if err := saveCheckpoint(ctx, tx, u, st, data); err != nil {
		return err
	}
	if !first {
		return nil
	}
	return s.audit(ctx, tx, st.OrgID, gatehouse.EventStackCheckpoint, st.ID, map[string]any{"update": u.ID, "kind": u.Kind, "version": u.Version},
		"%s %s of stack %s/%s wrote its first checkpoint (version %d)", u.Kind, u.ID, st.Project, st.Name, u.Version)
}

// PatchCheckpoint stores a whole checkpoint of a running update. sequence
// (0 when the CLI sends none) orders them: a retry of one already stored
// is accepted and changes nothing.
func (s *Service) PatchCheckpoint(ctx context.Context, updateID string, sequence int, data []byte) error {
	if err := checkDeployment("untypedDeployment", data, s.CheckpointLimit()); err != nil {
		return err
	}
	return s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		u, st, err := s.holding(ctx, tx, updateID)
		if err != nil {
			return err
		}
		if u.Kind == gatehouse.UpdateKindPreview {
			// The CLI sends a preview's snapshot too; a preview changes no
			// state, so it is accepted and not stored.
			return nil
		}
		if sequence > 0 && sequence <= u.Sequence {
			return nil
		}
		if err := s.saveCheckpoint(ctx, tx, u, st, data); err != nil {
			return err
		}
		if sequence > 0 {
			u.Sequence = sequence
			return tx.SaveUpdate(ctx, u)
		}
		return nil
	})
}

// PatchCheckpointDelta rebuilds the update's next checkpoint from the last
// one it stored and a delta, verified by the checksum of the result.
func (s *Service) PatchCheckpointDelta(ctx context.Context, updateID string, sequence int, hash string, delta []byte) error {
	return s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		u, st, err := s.holding(ctx, tx, updateID)
		if err != nil {
			return err
		}
		if u.Kind == gatehouse.UpdateKindPreview || sequence <= u.Sequence {
			return nil // a preview's snapshot, or a retry of a delta already applied
		}
		if sequence != u.Sequence+1 {
			return gatehouse.Errorf(gatehouse.EINVALID, "sequenceNumber: %d does not follow the last checkpoint's %d", sequence, u.Sequence)
		}
		if u.Sequence == 0 || st.Version != u.Version {
			return gatehouse.Errorf(gatehouse.EINVALID, "deploymentDelta: this update has stored no checkpoint to apply a delta to")
		}
		base, err := tx.GetCheckpoint(ctx, st.ID, u.Version)
		if err != nil {
			return err
		}
		data, err := state.ApplyDelta(base.Data, delta, hash, s.CheckpointLimit())
		if errors.Is(err, state.ErrTooLarge) {
			return gatehouse.Errorf(gatehouse.ETOOLARGE, "%s", err.Error())
		}
		if err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s", err.Error())
		}
		if err := s.saveCheckpoint(ctx, tx, u, st, data); err != nil {
			return err
		}
		u.Sequence = sequence
		return tx.SaveUpdate(ctx, u)
	})
}

// RecordEvents stores a batch of engine events; the summary event's
// resource changes go into the update's history entry.
func (s *Service) RecordEvents(ctx context.Context, updateID string, events []json.RawMessage) error {
	if len(events) > 10000 {
		return gatehouse.Errorf(gatehouse.EINVALID, "events: %d events, over the limit of 10000", len(events))
	}
	evs := make([]gatehouse.UpdateEvent, 0, len(events))
	var changes map[string]int
	for i, raw := range events {
		var e struct {
			Sequence     *int `json:"sequence"`
			SummaryEvent *struct {
				ResourceChanges map[string]int `json:"resourceChanges"`
			} `json:"summaryEvent"`
		}
		if err := json.Unmarshal(raw, &e); err != nil || e.Sequence == nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "events[%d]: an engine event needs a sequence number", i)
		}
		if e.SummaryEvent != nil {
			changes = e.SummaryEvent.ResourceChanges
		}
		evs = append(evs, gatehouse.UpdateEvent{Sequence: *e.Sequence, Data: raw})
	}
	return s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		u, st, err := s.holding(ctx, tx, updateID)
		if err != nil {
			return err
		}
		if u.Kind == gatehouse.UpdateKindPreview {
			// A preview keeps its first events only (quotas.previewEvents):
			// sequence numbers past the quota are accepted and dropped.
			org, err := tx.GetOrg(ctx, st.OrgID)
			if err != nil {
				return err
			}
			limit := org.Settings.Quotas.Effective().PreviewEvents
			kept := evs[:0:0]
			for _, e := range evs {
				if e.Sequence >= 0 && e.Sequence <= limit {
					kept = append(kept, e)
				}
			}
			evs = kept
		}
		if err := tx.AppendUpdateEvents(ctx, u.ID, evs); err != nil {
			return err
		}
		if changes != nil {
			info := InfoOf(u)
			info.ResourceChanges = changes
			u.Info, _ = json.Marshal(info)
			return tx.SaveUpdate(ctx, u)
		}
		return nil
	})
}

// UpdateEvents lists an update's engine events after a sequence number.
func (s *Service) UpdateEvents(ctx context.Context, u *gatehouse.StackUpdate, after, limit int) (evs []gatehouse.UpdateEvent, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		evs, err = tx.ListUpdateEvents(ctx, u.ID, after, limit)
		return err
	})
	return evs, err
}

// CompleteUpdate finishes a running update with its result and frees the
// stack's lease. An update that wrote no checkpoint still makes a version,
// a copy of the previous one, so that history numbers every update.
func (s *Service) CompleteUpdate(ctx context.Context, updateID, status string) error {
	switch status {
	case gatehouse.UpdateSucceeded, gatehouse.UpdateFailed, gatehouse.UpdateCancelled:
	default:
		return gatehouse.Errorf(gatehouse.EINVALID, "status: %q is not succeeded, failed or cancelled", status)
	}
	return s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		u, st, err := s.holding(ctx, tx, updateID)
		if err != nil {
			return err
		}
		if u.Kind != gatehouse.UpdateKindPreview && st.Version == u.Version-1 {
			if st.Version == 0 {
				u.Version = 0
			} else {
				prev, err := tx.GetCheckpoint(ctx, st.ID, st.Version)
				if err != nil {
					return err
				}
				if err := saveCheckpoint(ctx, tx, u, st, prev.Data); err != nil {
					return err
				}
			}
		}
		if u.Kind != gatehouse.UpdateKindPreview && u.Version > 0 {
			cp, err := tx.GetCheckpoint(ctx, st.ID, u.Version)
			if err != nil {
				return err
			}
			info := InfoOf(u)
			info.ResourceCount = resourceCount(cp.Data)
			u.Info, _ = json.Marshal(info)
		}
		u.Status, u.Finished, u.LeaseDigest = status, s.Now(), nil
		if err := tx.SaveUpdate(ctx, u); err != nil {
			return err
		}
		if err := tx.ReleaseStackLease(ctx, st.ID, u.ID); err != nil {
			return err
		}
		if u.Kind == gatehouse.UpdateKindPreview {
			return nil
		}
		return s.audit(ctx, tx, st.OrgID, gatehouse.EventStackUpdated, st.ID, map[string]any{"kind": u.Kind, "result": status, "version": u.Version},
			"%s of stack %s/%s %s (version %d)", u.Kind, st.Project, st.Name, status, u.Version)
	})
}

// CancelUpdate cancels a running update and frees the stack's lease.
func (s *Service) CancelUpdate(ctx context.Context, st *gatehouse.Stack, id string) error {
	return s.Store.Write(ctx, func(tx gatehouse.Tx) error {
		u, err := tx.GetUpdate(ctx, id)
		if err != nil || u.StackID != st.ID {
			return gatehouse.Errorf(gatehouse.ENOTFOUND, "update not found")
		}
		if u.Status != gatehouse.UpdateRunning && u.Status != gatehouse.UpdateNotStarted {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "the update is %s already", u.Status)
		}
		u.Status, u.Finished, u.LeaseDigest = gatehouse.UpdateCancelled, s.Now(), nil
		if err := tx.SaveUpdate(ctx, u); err != nil {
			return err
		}
		if err := tx.ReleaseStackLease(ctx, st.ID, u.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, st.OrgID, gatehouse.EventStackUpdateCancel, st.ID, map[string]string{"update": u.ID, "kind": u.Kind},
			"cancelled the %s of stack %s/%s", u.Kind, st.Project, st.Name)
	})
}

// History lists a stack's updates other than previews, newest first: one
// page of pageSize (0: all).
func (s *Service) History(ctx context.Context, st *gatehouse.Stack, pageSize, page int) ([]*gatehouse.StackUpdate, error) {
	var out []*gatehouse.StackUpdate
	skip := 0
	if pageSize > 0 {
		skip = (max(page, 1) - 1) * pageSize
	}
	err := s.walkUpdates(ctx, st, func(u *gatehouse.StackUpdate) bool {
		if !inHistory(u) {
			return false
		}
		if skip > 0 {
			skip--
			return false
		}
		out = append(out, u)
		return pageSize > 0 && len(out) == pageSize
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Version > out[j].Version })
	return out, err
}

// inHistory reports whether an update is part of the stack's history:
// started, and not a preview.
func inHistory(u *gatehouse.StackUpdate) bool {
	return u.Kind != gatehouse.UpdateKindPreview && u.Status != gatehouse.UpdateNotStarted
}

// walkUpdates calls fn on the stack's updates, newest first, until it
// returns true or there are no more.
func (s *Service) walkUpdates(ctx context.Context, st *gatehouse.Stack, fn func(*gatehouse.StackUpdate) bool) error {
	return s.read(ctx, func(tx gatehouse.Tx) error {
		next := ""
		for {
			us, n, err := tx.ListUpdates(ctx, st.ID, gatehouse.ListOptions{Limit: gatehouse.MaxListLimit, Continuation: next})
			if err != nil {
				return err
			}
			for _, u := range us {
				if fn(u) {
					return nil
				}
			}
			if next = n; next == "" {
				return nil
			}
		}
	})
}

// VersionUpdate returns the update that made a version of the stack (0:
// the latest), reading the history only as far back as it is.
func (s *Service) VersionUpdate(ctx context.Context, st *gatehouse.Stack, version int) (*gatehouse.StackUpdate, error) {
	var out *gatehouse.StackUpdate
	err := s.walkUpdates(ctx, st, func(u *gatehouse.StackUpdate) bool {
		if inHistory(u) && (version == 0 || u.Version == version) {
			out = u
		}
		return out != nil
	})
	if err == nil && out == nil {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "stack %s/%s has no update of version %d", st.Project, st.Name, version)
	}
	return out, err
}

// LatestPreview returns the stack's most recent preview.
func (s *Service) LatestPreview(ctx context.Context, st *gatehouse.Stack) (*gatehouse.StackUpdate, error) {
	var out *gatehouse.StackUpdate
	err := s.walkUpdates(ctx, st, func(u *gatehouse.StackUpdate) bool {
		if u.Kind == gatehouse.UpdateKindPreview {
			out = u
		}
		return out != nil
	})
	if err == nil && out == nil {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "stack %s/%s has no previews", st.Project, st.Name)
	}
	return out, err
}
