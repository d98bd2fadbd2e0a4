package service

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/gatehouse-iam/gatehouse"
)

// SSO protocols.
const (
	ProtocolOIDC = "oidc"
	ProtocolSAML = "saml"
)

// SSOLoginLifetime is how long a sign-in may take at the provider.
const SSOLoginLifetime = 10 * time.Minute

// MaxPendingSSOLogins bounds an organization's sign-ins under way (each a
// row, written before the browser reaches the provider, by anyone who
// asks): a flood of starts fills at most this many rows per organization
// per SSOLoginLifetime, on top of the per-address limit the console applies.
const MaxPendingSSOLogins = 10000

// DefaultUserClaim names the user when an organization names no claim.
const DefaultUserClaim = "email"

// SSOView is an organization's SSO settings as shown: never the secret,
// only whether there is one.
type SSOView struct {
	gatehouse.SSO
	HasSecret bool
	// DefaultRole is the role a first sign-in gets (the organization's
	// default when DefaultRoleID is empty).
	DefaultRole *gatehouse.Descriptor
	// IdP is the parsed SAML metadata (nil without), and MetadataError
	// why it no longer parses, if it does not.
	IdP           *saml.EntityDescriptor
	MetadataError string
}

// SSOInput changes SSO settings: a nil field keeps its value, an empty
// string clears it.
type SSOInput struct {
	Issuer, ClientID, ClientSecret, UserClaim, GroupsClaim *string
	IdPMetadata, GroupsAttribute                           *string
	AllowCreate                                            *bool
	// DefaultRoleID is a role of the organization; "" is its default role.
	DefaultRoleID *string
	// EmailDomains replaces the domains first sign-ins are limited to.
	EmailDomains *[]string
}

// SSO returns an organization's SSO settings (ENOTFOUND: none).
func (s *Service) SSO(ctx context.Context, orgID string) (v *SSOView, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		v, err = ssoView(ctx, tx, orgID)
		return err
	})
	return v, err
}

func ssoView(ctx context.Context, tx gatehouse.Tx, orgID string) (*SSOView, error) {
	c, err := tx.GetSSO(ctx, orgID)
	if err != nil {
		return nil, err
	}
	v := &SSOView{SSO: *c, HasSecret: len(c.SecretSealed) > 0}
	v.SecretKey, v.SecretSealed = nil, nil
	if v.DefaultRole, err = ssoRole(ctx, tx, orgID, c.DefaultRoleID); err != nil {
		return nil, err
	}
	if c.IdPMetadata != "" {
		if v.IdP, err = ParseIdPMetadata(c.IdPMetadata); err != nil {
			v.IdP, v.MetadataError = nil, err.Error()
		}
	}
	return v, nil
}

// ssoRole is the role a first sign-in gets.
func ssoRole(ctx context.Context, tx gatehouse.Tx, orgID, roleID string) (*gatehouse.Descriptor, error) {
	if roleID == "" {
		org, err := tx.GetOrg(ctx, orgID)
		if err != nil {
			return nil, err
		}
		roleID = org.Settings.DefaultRoleID
	}
	return tx.GetDescriptor(ctx, orgID, roleID)
}

// UpdateSSO changes an organization's SSO settings, creating them when
// there are none, and returns them as shown.
func (s *Service) UpdateSSO(ctx context.Context, orgID string, in SSOInput) (v *SSOView, err error) {
	err = s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		v, err = s.updateSSOTx(ctx, tx, orgID, in)
		return err
	})
	return v, err
}

func (s *Service) updateSSOTx(ctx context.Context, tx gatehouse.Tx, orgID string, in SSOInput) (*SSOView, error) {
	c, err := tx.GetSSO(ctx, orgID)
	if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
		c, err = &gatehouse.SSO{OrgID: orgID}, nil
	}
	if err != nil {
		return nil, err
	}
	changed := applySSO(c, in)
	if err := checkSSO(c); err != nil {
		return nil, err
	}
	if in.ClientSecret != nil {
		if err := s.sealSecret(c, *in.ClientSecret); err != nil {
			return nil, err
		}
	}
	if in.DefaultRoleID != nil && c.DefaultRoleID != "" {
		d, err := tx.GetDescriptor(ctx, orgID, c.DefaultRoleID)
		if err != nil {
			return nil, gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EINVALID, "defaultRoleId: role %q not found", c.DefaultRoleID)
		}
		if d.Purpose == gatehouse.PurposeSet || d.Purpose == gatehouse.PurposePolicy {
			return nil, gatehouse.Errorf(gatehouse.EINVALID, "defaultRoleId: %q is a %s, not a role", d.Name, d.Purpose)
		}
		// Whoever names the role first sign-ins get must hold it.
		if err := s.checkRole(ctx, tx, orgID, "making this role the one SSO sign-ins get", c.DefaultRoleID); err != nil {
			return nil, err
		}
	}
	if err := tx.PutSSO(ctx, c); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, tx, orgID, gatehouse.EventSSOChanged, "", map[string]any{"changed": changed, "issuer": c.Issuer,
		"clientId": c.ClientID, "allowCreate": c.AllowCreate, "defaultRoleId": c.DefaultRoleID},
		"changed the single sign-on settings (%s)", strings.Join(changed, ", ")); err != nil {
		return nil, err
	}
	return ssoView(ctx, tx, orgID)
}

// applySSO sets the fields in sets and returns their names.
func applySSO(c *gatehouse.SSO, in SSOInput) []string {
	var changed []string
	set := func(name string, dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
			changed = append(changed, name)
		}
	}
	set("issuer", &c.Issuer, in.Issuer)
	set("clientId", &c.ClientID, in.ClientID)
	set("userClaim", &c.UserClaim, in.UserClaim)
	set("groupsClaim", &c.GroupsClaim, in.GroupsClaim)
	set("groupsAttribute", &c.GroupsAttribute, in.GroupsAttribute)
	set("defaultRoleId", &c.DefaultRoleID, in.DefaultRoleID)
	if in.IdPMetadata != nil {
		c.IdPMetadata = strings.TrimSpace(*in.IdPMetadata)
		changed = append(changed, "idpSsoDescriptor")
	}
	if in.ClientSecret != nil {
		changed = append(changed, "clientSecret")
	}
	if in.AllowCreate != nil {
		c.AllowCreate = *in.AllowCreate
		changed = append(changed, "allowCreate")
	}
	if in.EmailDomains != nil {
		c.EmailDomains = nil
		for _, d := range *in.EmailDomains {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" && !slices.Contains(c.EmailDomains, d) {
				c.EmailDomains = append(c.EmailDomains, d)
			}
		}
		changed = append(changed, "emailDomains")
	}
	return changed
}

var (
	claimRE  = regexp.MustCompile(`^[A-Za-z0-9_:./-]{1,200}$`)
	domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// checkSSO checks settings as they would be stored.
func checkSSO(c *gatehouse.SSO) error {
	if c.Issuer != "" {
		u, err := url.Parse(c.Issuer)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "issuer: %q must be an https:// URL without credentials, query or fragment", c.Issuer)
		}
		if c.ClientID == "" {
			return gatehouse.Errorf(gatehouse.EINVALID, "clientId: required with an issuer")
		}
	}
	if err := checkText("clientId", c.ClientID, 500); err != nil {
		return err
	}
	for field, v := range map[string]string{"userClaim": c.UserClaim, "groupsClaim": c.GroupsClaim, "groupsAttribute": c.GroupsAttribute} {
		if v != "" && !claimRE.MatchString(v) {
			return gatehouse.Errorf(gatehouse.EINVALID, "%s: %q must be 1 to 200 letters, digits or _:./-", field, v)
		}
	}
	if len(c.EmailDomains) > 50 {
		return gatehouse.Errorf(gatehouse.EINVALID, "emailDomains: %d domains, over the limit of 50", len(c.EmailDomains))
	}
	for i, d := range c.EmailDomains {
		if !domainRE.MatchString(d) {
			return gatehouse.Errorf(gatehouse.EINVALID, "emailDomains[%d]: %q is not a domain name such as example.com", i, d)
		}
	}
	if c.IdPMetadata != "" {
		if len(c.IdPMetadata) > 256<<10 {
			return gatehouse.Errorf(gatehouse.EINVALID, "idpSsoDescriptor: %d bytes, over the limit of 256 KiB", len(c.IdPMetadata))
		}
		if _, err := ParseIdPMetadata(c.IdPMetadata); err != nil {
			return gatehouse.Errorf(gatehouse.EINVALID, "idpSsoDescriptor: %v", err)
		}
	}
	return nil
}

// ParseIdPMetadata parses a SAML identity provider's metadata: an
// EntityDescriptor (or the first of an EntitiesDescriptor) with an
// IDPSSODescriptor that has an HTTP-Redirect sign-on service and a
// signing certificate.
func ParseIdPMetadata(doc string) (*saml.EntityDescriptor, error) {
	root, err := rootElement(doc)
	if err != nil {
		return nil, fmt.Errorf("not SAML metadata: %v", err)
	}
	ed := &saml.EntityDescriptor{}
	switch root {
	case "EntityDescriptor":
		err = xml.Unmarshal([]byte(doc), ed)
	case "EntitiesDescriptor":
		eds := &saml.EntitiesDescriptor{}
		if err = xml.Unmarshal([]byte(doc), eds); err == nil && len(eds.EntityDescriptors) == 0 {
			err = errors.New("the EntitiesDescriptor holds no EntityDescriptor")
		}
		if err == nil {
			ed = &eds.EntityDescriptors[0]
		}
	default:
		err = fmt.Errorf("the root element is %q, not EntityDescriptor", root)
	}
	if err != nil {
		return nil, fmt.Errorf("not SAML metadata: %v", err)
	}
	if ed.EntityID == "" {
		return nil, fmt.Errorf("the EntityDescriptor has no entityID")
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, fmt.Errorf("no IDPSSODescriptor: this is not an identity provider's metadata")
	}
	idp := ed.IDPSSODescriptors[0]
	ok := slices.ContainsFunc(idp.SingleSignOnServices, func(e saml.Endpoint) bool { return e.Binding == saml.HTTPRedirectBinding })
	if !ok {
		return nil, fmt.Errorf("the IDPSSODescriptor has no SingleSignOnService with the HTTP-Redirect binding, which Gatehouse sends its requests with")
	}
	signing := slices.ContainsFunc(idp.KeyDescriptors, func(k saml.KeyDescriptor) bool {
		return (k.Use == "" || k.Use == "signing") && len(k.KeyInfo.X509Data.X509Certificates) > 0
	})
	if !signing {
		return nil, fmt.Errorf("the IDPSSODescriptor has no signing certificate: assertions could not be verified")
	}
	return ed, nil
}

// ssoKeyID names the data key of an organization's OIDC client secret.
func ssoKeyID(orgID string) string { return "sso/" + orgID }

// sealSecret seals a new client secret under a fresh data key ("" clears
// it).
func (s *Service) sealSecret(c *gatehouse.SSO, secret string) error {
	if secret == "" {
		c.SecretKey, c.SecretSealed = nil, nil
		return nil
	}
	if len(secret) > 1000 {
		return gatehouse.Errorf(gatehouse.EINVALID, "clientSecret: %d characters, over the limit of 1000", len(secret))
	}
	if s.Keys == nil {
		return gatehouse.Errorf(gatehouse.EINTERNAL, "the service has no master key to seal the client secret with")
	}
	k, wrapped, err := s.Keys.NewStackKey(ssoKeyID(c.OrgID))
	if err != nil {
		return err
	}
	c.SecretKey, c.SecretSealed = wrapped, k.Encrypt([]byte(secret))
	return nil
}

// OIDCClient returns an organization's OpenID Connect client, its secret
// opened: ENOTFOUND when the organization has no OIDC sign-in.
func (s *Service) OIDCClient(ctx context.Context, orgID string) (*gatehouse.OIDCClient, *gatehouse.SSO, error) {
	var c *gatehouse.SSO
	err := s.read(ctx, func(tx gatehouse.Tx) (err error) { c, err = tx.GetSSO(ctx, orgID); return err })
	if err == nil && c.Issuer == "" {
		err = gatehouse.Errorf(gatehouse.ENOTFOUND, "the organization has no OIDC sign-in")
	}
	if err != nil {
		return nil, nil, err
	}
	out := &gatehouse.OIDCClient{Issuer: c.Issuer, ClientID: c.ClientID, Scopes: []string{"openid", "profile", "email"}}
	if c.GroupsClaim != "" {
		out.Scopes = append(out.Scopes, "groups")
	}
	if len(c.SecretSealed) > 0 {
		if s.Keys == nil {
			return nil, nil, gatehouse.Errorf(gatehouse.EINTERNAL, "the service has no master key to open the client secret with")
		}
		k, err := s.Keys.OpenStackKey(ssoKeyID(orgID), c.SecretKey)
		if err != nil {
			return nil, nil, fmt.Errorf("open the client secret's key: %w", err)
		}
		secret, err := k.Decrypt(c.SecretSealed)
		if err != nil {
			return nil, nil, fmt.Errorf("open the client secret: %w", err)
		}
		out.ClientSecret = string(secret)
	}
	return out, c, nil
}

// DeleteSSO removes an organization's SSO settings.
func (s *Service) DeleteSSO(ctx context.Context, orgID string) error {
	return s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		if _, err := tx.GetSSO(ctx, orgID); err != nil {
			return err
		}
		if err := tx.DeleteSSO(ctx, orgID); err != nil {
			return err
		}
		return s.audit(ctx, tx, orgID, gatehouse.EventSSOChanged, "", map[string]any{"deleted": true}, "removed single sign-on")
	})
}

// BeginSSO records a sign-in under way and returns its state (the value
// the provider sends back, and the browser's cookie holds) with the
// record (its OIDC nonce and PKCE verifier fresh). requestID is the SAML
// AuthnRequest's id ("" for OIDC).
func (s *Service) BeginSSO(ctx context.Context, orgID, protocol, requestID, next string) (string, *gatehouse.SSOLogin, error) {
	state := randomHex(32)
	l := &gatehouse.SSOLogin{Digest: sessionDigest(state), OrgID: orgID, Protocol: protocol, RequestID: requestID, Next: next,
		Expires: s.Now().Add(SSOLoginLifetime)}
	if protocol == ProtocolOIDC {
		l.Nonce, l.Verifier = randomHex(32), randomHex(48)
	}
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.LockOrg(ctx, orgID); err != nil {
			return err
		}
		return tx.CreateSSOLogin(ctx, l, MaxPendingSSOLogins)
	})
	if err != nil {
		return "", nil, err
	}
	return state, l, nil
}

// TakeSSO returns the sign-in of a state once: a state that is unknown,
// used already, expired or of another protocol is ENOTFOUND.
func (s *Service) TakeSSO(ctx context.Context, state, protocol string) (l *gatehouse.SSOLogin, err error) {
	if state == "" || len(state) > 200 {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "sign-in not found")
	}
	err = s.store.Write(ctx, func(tx gatehouse.Tx) error {
		l, err = tx.TakeSSOLogin(ctx, sessionDigest(state))
		return err
	})
	if err != nil {
		return nil, err
	}
	if !s.Now().Before(l.Expires) || l.Protocol != protocol {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "sign-in not found: it expired or belongs to another protocol")
	}
	return l, nil
}

// UseAssertion remembers a SAML assertion's id until it expires (in the
// database, so that every replica refuses a replay): ECONFLICT when it was
// used before.
func (s *Service) UseAssertion(ctx context.Context, orgID, id string, expires time.Time) error {
	if id == "" || len(id) > 500 {
		return gatehouse.Errorf(gatehouse.EINVALID, "the assertion has no usable ID")
	}
	return s.store.Write(ctx, func(tx gatehouse.Tx) error { return tx.UseAssertion(ctx, orgID, id, expires, s.Now()) })
}

// SSOIdentity is who a provider says signed in.
type SSOIdentity struct {
	Protocol string
	// Subject is the value of the organization's user claim (OIDC) or the
	// NameID (SAML): it names the user.
	Subject     string
	Email, Name string
	// EmailVerified says the provider vouches for Email: OIDC's
	// email_verified claim true; SAML's organization-run identity
	// providers always do.
	EmailVerified bool
	// Groups are the user's groups, when the organization names a groups
	// claim or attribute (nil otherwise: team memberships stay as they are).
	Groups []string
}

// SSOSession is a completed SSO sign-in.
type SSOSession struct {
	// Value is the session cookie's value, shown once.
	Value   string
	Session *gatehouse.Session
	User    *gatehouse.User
	Created bool
}

// SSOLoginName maps a provider's user to a login: the subject itself when it
// is a valid login, with an e-mail address's "@" as "_" (alice@example.com
// signs in as alice_example.com).
func SSOLoginName(subject string) (string, error) {
	login := strings.Replace(strings.TrimSpace(subject), "@", "_", 1)
	if err := checkName("login", login, 100); err != nil {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "the identity provider's user %q does not make a valid login: %v", subject, err)
	}
	return login, nil
}

// SignInSSO signs a provider's user in to the organization: an existing
// member as themselves; a new user, when the organization allows it, as a
// member it manages with the SSO default role; anyone else is refused
// (EFORBIDDEN). The groups, when given, set the user's teams among the
// organization's: added to the teams named, removed from the others. It
// opens a console session of lifetime that acts through a personal token
// bound to the organization, so that the session ends the moment the user
// stops being a member (or is deactivated, or the token is revoked).
func (s *Service) SignInSSO(ctx context.Context, orgID string, who SSOIdentity, lifetime time.Duration) (*SSOSession, error) {
	login, err := SSOLoginName(who.Subject)
	if err != nil {
		return nil, err
	}
	out := &SSOSession{}
	var tok *gatehouse.Token
	err = s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		c, err := tx.GetSSO(ctx, orgID)
		if err != nil {
			return err
		}
		// A user whose login is the provider's subject itself (as SCIM
		// provisions them: Okta's and Entra ID's userName is the address
		// their SSO names) is that person; only a subject no login
		// matches takes the '_' form.
		if login != who.Subject && checkLogin("login", who.Subject) == nil {
			if _, err := tx.GetUserByLogin(ctx, who.Subject); err == nil {
				login = who.Subject
			} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
				return err
			}
		}
		// The provider's user acts: its events (a first sign-in's
		// member_added, the sign-in) name them.
		actor := gatehouse.ActorFrom(ctx)
		actor.Login = login
		ctx := gatehouse.WithActor(ctx, actor)
		u, created, err := s.ssoMember(ctx, tx, c, login, who)
		if err != nil {
			return err
		}
		out.User, out.Created = u, created
		teams, err := syncTeams(ctx, tx, orgID, u.ID, who.Groups)
		if err != nil {
			return err
		}
		if tok, err = s.ssoToken(ctx, tx, orgID, u.ID, lifetime); err != nil {
			return err
		}
		out.Value, out.Session, err = s.openSessionTx(ctx, tx, u.ID, tok.Digest, lifetime)
		if err != nil {
			return err
		}
		return s.audit(gatehouse.WithActor(ctx, ssoActor(ctx, u, tok)), tx, orgID, gatehouse.EventSSOSignIn, u.ID,
			map[string]any{"login": u.Login, "protocol": who.Protocol, "subject": who.Subject, "created": created, "teams": teams},
			"%q signed in through %s single sign-on", u.Login, strings.ToUpper(who.Protocol))
	})
	if err != nil {
		return nil, err
	}
	s.installToken(ctx, tok)
	return out, nil
}

func ssoActor(ctx context.Context, u *gatehouse.User, tok *gatehouse.Token) gatehouse.Actor {
	a := gatehouse.ActorFrom(ctx)
	a.Login, a.UserID, a.TokenID = u.Login, u.ID, tok.ID
	return a
}

// ssoMember finds or, when allowed, creates the member a sign-in is for.
func (s *Service) ssoMember(ctx context.Context, tx gatehouse.Tx, c *gatehouse.SSO, login string, who SSOIdentity) (*gatehouse.User, bool, error) {
	refuse := func(why string) error {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "%s cannot sign in: %s", login, why)
	}
	u, err := tx.GetUserByLogin(ctx, login)
	switch {
	case err == nil:
		if m, err := tx.GetMember(ctx, c.OrgID, u.ID); err == nil {
			if err := checkActive(ctx, tx, m); err != nil {
				return nil, false, refuse(gatehouse.ErrorMessage(err))
			}
			return u, false, nil
		} else if gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND {
			return nil, false, err
		}
		if !c.AllowCreate || u.ManagedBy != c.OrgID {
			return nil, false, refuse("the user is not a member of the organization; an administrator must invite them")
		}
		if !emailAllowed(c.EmailDomains, who) {
			return nil, false, refuse(fmt.Sprintf("a first sign-in adds members only for verified e-mail addresses in %s", strings.Join(c.EmailDomains, ", ")))
		}
	case gatehouse.ErrorCode(err) != gatehouse.ENOTFOUND:
		return nil, false, err
	case !c.AllowCreate:
		return nil, false, refuse("the user is not a member of the organization, and the organization does not let a first sign-in create members")
	case !emailAllowed(c.EmailDomains, who):
		return nil, false, refuse(fmt.Sprintf("a first sign-in creates members only for verified e-mail addresses in %s", strings.Join(c.EmailDomains, ", ")))
	default:
		u = &gatehouse.User{Login: login, Name: firstNonEmpty(who.Name, login), Email: who.Email, ManagedBy: c.OrgID}
		if err := tx.CreateUser(ctx, u); err != nil {
			return nil, false, err
		}
	}
	role, err := ssoRole(ctx, tx, c.OrgID, c.DefaultRoleID)
	if err != nil {
		return nil, false, err
	}
	if err := tx.AddMember(ctx, &gatehouse.Membership{OrgID: c.OrgID, UserID: u.ID, RoleID: role.ID}); err != nil {
		return nil, false, err
	}
	err = s.audit(ctx, tx, c.OrgID, gatehouse.EventMemberAdded, "", map[string]any{"login": login, "roleId": role.ID, "role": role.Name,
		"via": "sso"}, "added %q with role %q at their first single sign-on", login, role.Name)
	return u, true, err
}

// checkActive refuses a personal token bound to a membership (an SSO
// session's, a CLI token minted from one) when SCIM deactivated the member
// there or in the organization that manages the user: deprovisioning
// revoked every token the user had, and one made after it would come back
// to life when the member is activated again. Under the organization's
// lock, which deprovisioning takes too, so that a deprovisioning either
// came first and is seen here, or comes after and revokes this token with
// the rest.
func checkActive(ctx context.Context, tx gatehouse.Tx, m *gatehouse.Membership) error {
	if m.Suspended {
		return gatehouse.Errorf(gatehouse.EFORBIDDEN, "the organization's provisioning (SCIM) has deactivated the user")
	}
	return gatehouse.Reword(checkNotDeprovisioned(ctx, tx, m.UserID), gatehouse.EFORBIDDEN,
		"the organization that manages this user has deactivated them")
}

// emailAllowed reports whether a verified e-mail address of who's is in
// one of the domains (anyone may, when there are none).
func emailAllowed(domains []string, who SSOIdentity) bool {
	if len(domains) == 0 {
		return true
	}
	_, domain, ok := strings.Cut(strings.ToLower(who.Email), "@")
	return ok && who.EmailVerified && slices.Contains(domains, domain)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// syncTeams puts the user in the organization's teams named in groups and
// takes them out of the others; nil groups change nothing. It returns the
// changes ("+team", "-team").
func syncTeams(ctx context.Context, tx gatehouse.Tx, orgID, userID string, groups []string) ([]string, error) {
	if groups == nil {
		return nil, nil
	}
	want := map[string]bool{}
	for _, g := range groups {
		want[strings.TrimSpace(g)] = true
	}
	have, err := tx.ListUserTeams(ctx, orgID, userID)
	if err != nil {
		return nil, err
	}
	var changes []string
	in := map[string]bool{}
	for _, t := range have {
		in[t.Name] = true
		if !want[t.Name] {
			if err := tx.RemoveTeamMember(ctx, t.ID, userID); err != nil {
				return nil, err
			}
			changes = append(changes, "-"+t.Name)
		}
	}
	names := make([]string, 0, len(want))
	for g := range want {
		names = append(names, g)
	}
	slices.Sort(names)
	for _, g := range names {
		if in[g] || g == "" {
			continue
		}
		t, err := tx.GetTeam(ctx, orgID, g)
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			continue // a group with no team of its name
		}
		if err != nil {
			return nil, err
		}
		if err := tx.PutTeamMember(ctx, &gatehouse.TeamMember{TeamID: t.ID, UserID: userID, Role: gatehouse.TeamRoleMember}); err != nil {
			return nil, err
		}
		changes = append(changes, "+"+g)
	}
	return changes, nil
}

// ssoToken mints the personal token an SSO session acts through: bound to
// the organization, living as long as the session (within the
// organization's longest token lifetime).
func (s *Service) ssoToken(ctx context.Context, tx gatehouse.Tx, orgID, userID string, lifetime time.Duration) (*gatehouse.Token, error) {
	now := s.Now()
	org, err := tx.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if max := org.Settings.MaxTokenLifetime; max > 0 && lifetime > max {
		lifetime = max
	}
	_, digest := gatehouse.NewTokenValue() // the value is never shown: only the session uses the token
	tok := &gatehouse.Token{Kind: gatehouse.TokenPersonal, OrgID: orgID, UserID: userID, Digest: digest, Expires: now.Add(lifetime),
		Description: "console session through single sign-on", CreatedBy: userID}
	return tok, tx.CreateToken(ctx, tok)
}

// SSOOrg returns an organization by name with its SSO settings
// (ENOTFOUND: no such organization, or it has no SSO).
func (s *Service) SSOOrg(ctx context.Context, name string) (org *gatehouse.Organization, c *gatehouse.SSO, err error) {
	err = s.read(ctx, func(tx gatehouse.Tx) error {
		if org, err = tx.GetOrgByName(ctx, name); err != nil {
			return err
		}
		c, err = tx.GetSSO(ctx, org.ID)
		return err
	})
	return org, c, err
}

// CLIToken mints the personal token `pulumi login` in the browser hands to
// the CLI, for the identity of a console session: a token of the user's
// own when the session was opened with one, or, for a session opened
// through an organization's SSO, a token bound to that organization (its
// provider speaks for the user there, never in their other
// organizations), which dies with the membership.
func (s *Service) CLIToken(ctx context.Context, id *gatehouse.Identity, description string) (string, error) {
	if id.User == nil {
		return "", gatehouse.Errorf(gatehouse.EFORBIDDEN, "only a user signs in the CLI")
	}
	if id.Token.OrgID == "" {
		_, value, err := s.CreateToken(ctx, TokenInput{Kind: gatehouse.TokenPersonal, UserID: id.User.ID, Description: description,
			CreatedBy: id.User.ID})
		return value, err
	}
	if err := checkText("description", description, 1000); err != nil {
		return "", err
	}
	orgID := id.Token.OrgID
	value, digest := gatehouse.NewTokenValue()
	tok := &gatehouse.Token{Kind: gatehouse.TokenPersonal, OrgID: orgID, UserID: id.User.ID, Digest: digest, Description: description,
		CreatedBy: id.User.ID}
	err := s.write(ctx, orgID, func(tx gatehouse.Tx) error {
		m, err := tx.GetMember(ctx, orgID, id.User.ID)
		if err != nil {
			return gatehouse.Recode(err, gatehouse.ENOTFOUND, gatehouse.EFORBIDDEN, "you are no longer a member of the organization")
		}
		if err := checkActive(ctx, tx, m); err != nil {
			return err
		}
		org, err := tx.GetOrg(ctx, orgID)
		if err != nil {
			return err
		}
		if max := org.Settings.MaxTokenLifetime; max > 0 {
			tok.Expires = s.Now().Add(max)
		}
		if err := tx.CreateToken(ctx, tok); err != nil {
			return err
		}
		return s.tokenEvent(ctx, tx, []string{orgID}, gatehouse.EventTokenCreated, tok, "created")
	})
	if err != nil {
		return "", err
	}
	s.installToken(ctx, tok)
	return value, nil
}

// rootElement is the local name of a document's first element.
func rootElement(doc string) (string, error) {
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local, nil
		}
	}
}

// --- SAML service provider key pairs

// SP key statuses.
const (
	// SPKeyCurrent signs the organization's AuthnRequests; its certificate
	// comes first in the SP metadata.
	SPKeyCurrent = "current"
	// SPKeyNext is published ahead of a rollover: the identity provider
	// learns its certificate before it signs.
	SPKeyNext = "next"
	// SPKeyPrevious signed before the current key; it stays published
	// until deleted, so that an identity provider that still encrypts to
	// it is understood.
	SPKeyPrevious = "previous"
)

// MaxSPKeys is how many SP key pairs an organization holds at once: the
// current one and one other, the next or the previous, which is all a
// rollover needs.
const MaxSPKeys = 2

const (
	spKeyBits = 2048
	// spKeyLifetime is the certificates' validity. Identity providers
	// treat an SP certificate as a container for its key, and rotation is
	// the admin's (CreateSPKey, ActivateSPKey, DeleteSPKey), so it is long
	// enough never to end a working configuration by surprise.
	spKeyLifetime = 10 * 365 * 24 * time.Hour
)

// SPKeyView is an SP key pair as shown: its certificate, never its
// private key.
type SPKeyView struct {
	ID          string
	Status      string // SPKeyCurrent, SPKeyNext or SPKeyPrevious
	Certificate *x509.Certificate
	Created     time.Time
	Activated   time.Time // zero for a next key
}

// SPKeyPair is an SP key pair with its private key opened, for the
// console's service provider only. Neither its String, its LogValue nor
// its JSON shows the key, so that a log line that names a pair (or a list
// of them) cannot leak it.
type SPKeyPair struct {
	SPKeyView
	Key *rsa.PrivateKey
}

func (p SPKeyPair) String() string { return "SAML SP key " + p.ID + " (" + p.Status + ")" }

// LogValue is the pair's id and status.
func (p SPKeyPair) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", p.ID), slog.String("status", p.Status))
}

// MarshalJSON is the pair's id and status.
func (p SPKeyPair) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"id": p.ID, "status": p.Status})
}

// spKeyID names the data key an SP private key is sealed under: bound to
// its organization and key, so that a sealed key moved to another row
// does not open.
func spKeyID(orgID, id string) string { return "sso-sp/" + orgID + "/" + id }

// SPKeys returns an organization's SP key pairs, the current one first and
// the others newest first, making the first one when there is none.
func (s *Service) SPKeys(ctx context.Context, orgID string) ([]SPKeyView, error) {
	keys, err := s.ensureSPKeys(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return spViews(keys)
}

// OpenSPKeys returns an organization's SP key pairs with their private
// keys opened, in SPKeys' order (the current one first), making the first
// one when there is none.
func (s *Service) OpenSPKeys(ctx context.Context, orgID string) ([]SPKeyPair, error) {
	keys, err := s.ensureSPKeys(ctx, orgID)
	if err != nil {
		return nil, err
	}
	views, err := spViews(keys)
	if err != nil {
		return nil, err
	}
	byID := map[string]*gatehouse.SPKey{}
	for _, k := range keys {
		byID[k.ID] = k
	}
	out := make([]SPKeyPair, len(views))
	for i, v := range views {
		key, err := s.openSPKey(byID[v.ID], v.Certificate)
		if err != nil {
			return nil, err
		}
		out[i] = SPKeyPair{SPKeyView: v, Key: key}
	}
	return out, nil
}

// ensureSPKeys returns an organization's keys, making and storing its
// first (current) key pair when it has none. The key is made outside the
// transaction, one at a time in this process; the transaction, under the
// organization's lock, stores it only if no replica stored one first.
func (s *Service) ensureSPKeys(ctx context.Context, orgID string) ([]*gatehouse.SPKey, error) {
	var keys []*gatehouse.SPKey
	list := func() error {
		return s.read(ctx, func(tx gatehouse.Tx) (err error) { keys, err = tx.ListSPKeys(ctx, orgID); return err })
	}
	if err := list(); err != nil || len(keys) > 0 {
		return keys, err
	}
	s.spKeyGen.Lock()
	defer s.spKeyGen.Unlock()
	if err := list(); err != nil || len(keys) > 0 {
		return keys, err
	}
	k, err := s.newSPKey(ctx, orgID)
	if err != nil {
		return nil, err
	}
	k.Activated = k.Created
	err = s.store.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.LockOrg(ctx, orgID); err != nil {
			return err
		}
		if keys, err = tx.ListSPKeys(ctx, orgID); err != nil || len(keys) > 0 {
			return err
		}
		if err := tx.CreateSPKey(ctx, k); err != nil {
			return err
		}
		keys = []*gatehouse.SPKey{k}
		return s.spKeyEvent(ctx, tx, orgID, "created", k, "made the SAML service provider's first key pair %s, which signs its requests", k.ID)
	})
	return keys, err
}

// newSPKey makes a key pair, its self-signed certificate and the sealed
// form of its private key.
func (s *Service) newSPKey(ctx context.Context, orgID string) (*gatehouse.SPKey, error) {
	if s.Keys == nil {
		return nil, gatehouse.Errorf(gatehouse.EINTERNAL, "the service has no master key to seal the SAML service provider's key with")
	}
	var org *gatehouse.Organization
	if err := s.read(ctx, func(tx gatehouse.Tx) (err error) { org, err = tx.GetOrg(ctx, orgID); return err }); err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, spKeyBits)
	if err != nil {
		return nil, fmt.Errorf("make the SAML SP key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{SerialNumber: serial,
		Subject:   pkix.Name{CommonName: "Gatehouse SAML service provider", Organization: []string{org.Name}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(spKeyLifetime),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, BasicConstraintsValid: true}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("make the SAML SP certificate: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	k := &gatehouse.SPKey{ID: gatehouse.NewID(), OrgID: orgID, Certificate: cert, Created: s.Now()}
	dk, wrapped, err := s.Keys.NewStackKey(spKeyID(orgID, k.ID))
	if err != nil {
		return nil, err
	}
	k.KeyWrapped, k.KeySealed = wrapped, dk.Encrypt(der)
	return k, nil
}

// openSPKey opens a key pair's sealed private key, which must be the
// certificate's.
func (s *Service) openSPKey(k *gatehouse.SPKey, cert *x509.Certificate) (*rsa.PrivateKey, error) {
	if s.Keys == nil {
		return nil, gatehouse.Errorf(gatehouse.EINTERNAL, "the service has no master key to open the SAML service provider's key with")
	}
	dk, err := s.Keys.OpenStackKey(spKeyID(k.OrgID, k.ID), k.KeyWrapped)
	if err != nil {
		return nil, fmt.Errorf("open SAML SP key %s's data key: %w", k.ID, err)
	}
	der, err := dk.Decrypt(k.KeySealed)
	if err != nil {
		return nil, fmt.Errorf("open SAML SP key %s: %w", k.ID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("SAML SP key %s does not parse", k.ID)
	}
	key, ok := parsed.(*rsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("SAML SP key %s is not its certificate's", k.ID)
	}
	return key, nil
}

// spViews shows keys, the current one first: of the keys activated, the
// one activated last (the oldest key when none is).
func spViews(keys []*gatehouse.SPKey) ([]SPKeyView, error) {
	current := -1
	for i, k := range keys {
		if !k.Activated.IsZero() && (current < 0 || k.Activated.After(keys[current].Activated)) {
			current = i
		}
	}
	if current < 0 && len(keys) > 0 {
		current = 0
	}
	out := make([]SPKeyView, 0, len(keys))
	for i, k := range keys {
		cert, err := x509.ParseCertificate(k.Certificate)
		if err != nil {
			return nil, fmt.Errorf("SAML SP key %s's certificate does not parse: %w", k.ID, err)
		}
		v := SPKeyView{ID: k.ID, Status: SPKeyPrevious, Certificate: cert, Created: k.Created, Activated: k.Activated}
		switch {
		case i == current:
			v.Status = SPKeyCurrent
		case k.Activated.IsZero():
			v.Status = SPKeyNext
		}
		out = append(out, v)
	}
	slices.SortStableFunc(out, func(a, b SPKeyView) int {
		if (a.Status == SPKeyCurrent) != (b.Status == SPKeyCurrent) {
			if a.Status == SPKeyCurrent {
				return -1
			}
			return 1
		}
		return b.Created.Compare(a.Created)
	})
	return out, nil
}

// CreateSPKey starts a rollover: it makes a key pair that the SP metadata
// publishes beside the current one (for signing and for encryption, and
// assertions encrypted to it decrypt) but that signs nothing until
// ActivateSPKey. ECONFLICT when the organization holds MaxSPKeys already.
func (s *Service) CreateSPKey(ctx context.Context, orgID string) ([]SPKeyView, error) {
	keys, err := s.SPKeys(ctx, orgID)
	if err != nil {
		return nil, err
	}
	if err := spKeysFull(keys); err != nil {
		return nil, err // before the key generation it would waste
	}
	k, err := s.newSPKey(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return s.spKeyWrite(ctx, orgID, func(tx gatehouse.Tx, keys []SPKeyView) error {
		if err := spKeysFull(keys); err != nil {
			return err
		}
		if err := tx.CreateSPKey(ctx, k); err != nil {
			return err
		}
		return s.spKeyEvent(ctx, tx, orgID, "created", k,
			"made SAML service provider key %s, published beside the current one; it signs once activated", k.ID)
	})
}

// ActivateSPKey makes a key the current one, which signs the
// organization's AuthnRequests from now on; the key it replaces becomes
// the previous one, still published and still decrypting until deleted.
// A previous key may be activated again (a rollback). ENOTFOUND for a key
// the organization does not hold; ECONFLICT for the current one.
func (s *Service) ActivateSPKey(ctx context.Context, orgID, id string) ([]SPKeyView, error) {
	return s.spKeyWrite(ctx, orgID, func(tx gatehouse.Tx, keys []SPKeyView) error {
		k, err := findSPKey(keys, id)
		if err != nil {
			return err
		}
		if k.Status == SPKeyCurrent {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "SAML SP key %s is the current key already", id)
		}
		// Later than the current key's activation even on a clock that
		// has not moved, so that this key is the one activated last.
		at := s.Now()
		if cur := keys[0]; !at.After(cur.Activated) {
			at = cur.Activated.Add(time.Microsecond)
		}
		if err := tx.ActivateSPKey(ctx, orgID, id, at); err != nil {
			return err
		}
		return s.spKeyEvent(ctx, tx, orgID, "activated", &gatehouse.SPKey{ID: id, Certificate: k.Certificate.Raw},
			"activated SAML service provider key %s: it signs the requests from now on", id)
	})
}

// DeleteSPKey ends a rollover (or abandons one): the key is no longer
// published, and assertions encrypted to it no longer decrypt. ENOTFOUND
// for a key the organization does not hold; ECONFLICT for the current one,
// which signs.
func (s *Service) DeleteSPKey(ctx context.Context, orgID, id string) ([]SPKeyView, error) {
	return s.spKeyWrite(ctx, orgID, func(tx gatehouse.Tx, keys []SPKeyView) error {
		k, err := findSPKey(keys, id)
		if err != nil {
			return err
		}
		if k.Status == SPKeyCurrent {
			return gatehouse.Errorf(gatehouse.ECONFLICT, "SAML SP key %s is the current key, which signs the requests: activate another key first", id)
		}
		if err := tx.DeleteSPKey(ctx, orgID, id); err != nil {
			return err
		}
		return s.spKeyEvent(ctx, tx, orgID, "deleted", &gatehouse.SPKey{ID: id, Certificate: k.Certificate.Raw},
			"deleted SAML service provider key %s (the %s one): it is no longer published nor decrypts", id, k.Status)
	})
}

// spKeyWrite runs fn on the organization's keys as shown, under its lock,
// and returns them as fn left them.
func (s *Service) spKeyWrite(ctx context.Context, orgID string, fn func(tx gatehouse.Tx, keys []SPKeyView) error) ([]SPKeyView, error) {
	var out []SPKeyView
	err := s.store.Write(ctx, func(tx gatehouse.Tx) error {
		if err := tx.LockOrg(ctx, orgID); err != nil {
			return err
		}
		keys, err := tx.ListSPKeys(ctx, orgID)
		if err != nil {
			return err
		}
		views, err := spViews(keys)
		if err != nil {
			return err
		}
		if err := fn(tx, views); err != nil {
			return err
		}
		if keys, err = tx.ListSPKeys(ctx, orgID); err != nil {
			return err
		}
		out, err = spViews(keys)
		return err
	})
	return out, err
}

// spKeysFull refuses another key to an organization that holds MaxSPKeys.
func spKeysFull(keys []SPKeyView) error {
	if len(keys) < MaxSPKeys {
		return nil
	}
	other := keys[len(keys)-1]
	return gatehouse.Errorf(gatehouse.ECONFLICT, "the organization holds %d SAML SP keys, the most it may: delete the %s one (%s) first",
		len(keys), other.Status, other.ID)
}

func findSPKey(keys []SPKeyView, id string) (SPKeyView, error) {
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return SPKeyView{}, gatehouse.Errorf(gatehouse.ENOTFOUND, "SAML SP key %q not found in the organization", truncateID(id))
}

func truncateID(id string) string {
	if len(id) > 64 {
		return id[:64] + "…"
	}
	return id
}

// spKeyEvent audits a change of the SP keys: the key's id and its
// certificate's SHA-256 fingerprint, never the private key.
func (s *Service) spKeyEvent(ctx context.Context, tx gatehouse.Tx, orgID, action string, k *gatehouse.SPKey, format string, args ...any) error {
	return s.audit(ctx, tx, orgID, gatehouse.EventSSOChanged, "", map[string]any{"spKey": k.ID, "action": action,
		"certificateSha256": CertificateFingerprint(k.Certificate)}, format, args...)
}

// CertificateFingerprint is a DER certificate's SHA-256 fingerprint as
// openssl prints it (upper-case hex pairs separated by colons).
func CertificateFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}
