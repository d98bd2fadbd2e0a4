package web_test

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-iam/gatehouse/api/wire"
)

// --- the SP metadata as the IdP is given it

// spMetadataDoc is Gatehouse's SP metadata for acme, as served.
func (e *ssoEnv) spMetadataDoc() (*saml.EntityDescriptor, string) {
	e.t.Helper()
	status, _, body := e.browser().do("GET", e.gh.URL+"/console/-/sso/acme/saml/metadata", nil)
	if status != 200 {
		e.t.Fatalf("SP metadata: %d %s", status, body)
	}
	md := &saml.EntityDescriptor{}
	if err := xml.Unmarshal([]byte(body), md); err != nil {
		e.t.Fatal(err)
	}
	return md, body
}

// registerSPAs gives the IdP Gatehouse's SP metadata as change leaves it,
// as an admin who pastes certificates into the IdP by hand might.
func (e *ssoEnv) registerSPAs(change func(*saml.EntityDescriptor)) {
	e.t.Helper()
	md, _ := e.spMetadataDoc()
	change(md)
	body, err := xml.Marshal(md)
	if err != nil {
		e.t.Fatal(err)
	}
	w := httptest.NewRecorder()
	e.sidp.ServeHTTP(w, httptest.NewRequest("PUT", "/services/gatehouse", bytes.NewReader(body)))
	if w.Code >= 300 {
		e.t.Fatalf("register SP: %d %s", w.Code, w.Body)
	}
}

// keyDescriptors returns the certificates of one use in metadata, in order.
func keyDescriptors(md *saml.EntityDescriptor, use string) []string {
	var out []string
	for _, k := range md.SPSSODescriptors[0].KeyDescriptors {
		if k.Use == use {
			for _, c := range k.KeyInfo.X509Data.X509Certificates {
				out = append(out, strings.Join(strings.Fields(c.Data), ""))
			}
		}
	}
	return out
}

// withoutEncryption drops the encryption certificates: the IdP then sends
// plain assertions.
func withoutEncryption(md *saml.EntityDescriptor) { encryptingTo(nil)(md) }

// encryptingTo leaves cert as the only encryption certificate (none when
// nil), so that the IdP encrypts to it; the signing certificates stay.
func encryptingTo(cert *x509.Certificate) func(*saml.EntityDescriptor) {
	return func(md *saml.EntityDescriptor) {
		d := &md.SPSSODescriptors[0]
		var kept []saml.KeyDescriptor
		var methods []saml.EncryptionMethod
		for _, k := range d.KeyDescriptors {
			if k.Use == "encryption" {
				methods = k.EncryptionMethods
				continue
			}
			kept = append(kept, k)
		}
		if cert != nil {
			kept = append(kept, saml.KeyDescriptor{Use: "encryption", EncryptionMethods: methods, KeyInfo: saml.KeyInfo{
				X509Data: saml.X509Data{X509Certificates: []saml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(cert.Raw)}}}}})
		}
		d.KeyDescriptors = kept
	}
}

// --- the keys through the API

// spKeys are acme's SP keys as the API shows them, with their
// certificates parsed.
func (e *ssoEnv) spKeys() ([]wire.SAMLSPKey, []*x509.Certificate) {
	e.t.Helper()
	var keys wire.SAMLSPKeys
	if st := e.api("GET", "/api/orgs/acme/saml/sp-keys", nil, &keys); st != 200 {
		e.t.Fatalf("GET sp-keys: %d", st)
	}
	var certs []*x509.Certificate
	for _, k := range keys.Keys {
		block, _ := pem.Decode([]byte(k.Certificate))
		if block == nil {
			e.t.Fatalf("key %s: no PEM certificate", k.ID)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			e.t.Fatal(err)
		}
		certs = append(certs, c)
	}
	return keys.Keys, certs
}

func b64(c *x509.Certificate) string { return base64.StdEncoding.EncodeToString(c.Raw) }

// --- the request

// samlRedirect starts a SAML sign-in and returns where Gatehouse sends the
// browser: the IdP's SSO URL with the signed request.
func (e *ssoEnv) samlRedirect(b *ssoBrowser) *url.URL {
	e.t.Helper()
	status, h, body := b.do("GET", e.gh.URL+"/console/-/sso/acme?protocol=saml", nil)
	if status != 303 || !strings.HasPrefix(h.Get("Location"), e.idp.URL) {
		e.t.Fatalf("start: %d %s %s", status, h.Get("Location"), body)
	}
	u, err := url.Parse(h.Get("Location"))
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// redirectSigner says which of certs signed a redirect's query (SAML
// bindings §3.4.4.1: RSA-SHA256 over "SAMLRequest=…&RelayState=…&SigAlg=…"
// as sent): its index, or -1.
func redirectSigner(t *testing.T, u *url.URL, certs []*x509.Certificate) int {
	t.Helper()
	parts := map[string]string{}
	for _, p := range strings.Split(u.RawQuery, "&") {
		k, _, _ := strings.Cut(p, "=")
		parts[k] = p
	}
	if u.Query().Get("SigAlg") != dsig.RSASHA256SignatureMethod {
		t.Fatalf("SigAlg = %q, want RSA-SHA256", u.Query().Get("SigAlg"))
	}
	signed := parts["SAMLRequest"] + "&" + parts["RelayState"] + "&" + parts["SigAlg"]
	sig, err := base64.StdEncoding.DecodeString(u.Query().Get("Signature"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(signed))
	for i, c := range certs {
		if rsa.VerifyPKCS1v15(c.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig) == nil {
			return i
		}
	}
	return -1
}

// authnRequestOf reads the AuthnRequest a redirect carries.
func authnRequestOf(t *testing.T, u *url.URL) (*saml.AuthnRequest, []byte) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := io.ReadAll(flate.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	r := &saml.AuthnRequest{}
	if err := xml.Unmarshal(doc, r); err != nil {
		t.Fatal(err)
	}
	return r, doc
}

// deflated is a request document as the redirect binding carries it.
func deflated(t *testing.T, doc []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(doc)
	w.Close()
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// idpErrors records why the IdP refused requests.
type idpErrors struct {
	mu   sync.Mutex
	errs []string
}

func (ie *idpErrors) last() string {
	ie.mu.Lock()
	defer ie.mu.Unlock()
	if len(ie.errs) == 0 {
		return ""
	}
	return ie.errs[len(ie.errs)-1]
}

func (e *ssoEnv) recordIdPErrors() *idpErrors {
	ie := &idpErrors{}
	e.sidp.IDP.OnError = func(w http.ResponseWriter, _ *http.Request, status int, err error) {
		ie.mu.Lock()
		ie.errs = append(ie.errs, err.Error())
		ie.mu.Unlock()
		http.Error(w, http.StatusText(status), status)
	}
	return ie
}

// TestSAMLSignedRequests: the SP metadata says AuthnRequestsSigned and
// publishes the signing certificate, the current SP key's; Gatehouse
// signs its requests with it (HTTP-Redirect, RSA-SHA256), and crewjam's
// IdP, which verifies them against the metadata, accepts the signed
// request; the request altered (its XML, its RelayState), unsigned, or
// signed with another key is refused by the IdP.
func TestSAMLSignedRequests(t *testing.T) {
	e := newSSOEnv(t)
	idpErrs := e.recordIdPErrors()
	e.configureSAML(true)
	md, _ := e.spMetadataDoc()
	sso := md.SPSSODescriptors[0]
	keys, certs := e.spKeys()
	if sso.AuthnRequestsSigned == nil || !*sso.AuthnRequestsSigned || sso.WantAssertionsSigned == nil || !*sso.WantAssertionsSigned {
		t.Errorf("metadata: AuthnRequestsSigned %v, WantAssertionsSigned %v", sso.AuthnRequestsSigned, sso.WantAssertionsSigned)
	}
	if got := keyDescriptors(md, "signing"); len(keys) != 1 || len(got) != 1 || got[0] != b64(certs[0]) {
		t.Fatalf("signing certificates %v, want the current key's", got)
	}

	b := e.browser()
	if status, _, body := b.do("POST", e.idp.URL+"/login", url.Values{"user": {"alice"}, "password": {"pw-alice"}}); status != 200 {
		t.Fatalf("IdP login: %d %s", status, body)
	}
	u := e.samlRedirect(b)
	if i := redirectSigner(t, u, certs); i != 0 {
		t.Fatalf("the request is signed by key %d, want the current key", i)
	}
	ar, doc := authnRequestOf(t, u)
	if ar.Signature != nil || ar.Destination != e.idp.URL+"/sso" {
		t.Errorf("request: enveloped signature %v (the redirect binding has none), destination %q", ar.Signature != nil, ar.Destination)
	}
	// The signed request is accepted: the IdP answers with a response.
	_, status, body := b.follow(u.String())
	if status != 200 || !strings.Contains(body, "SAMLResponse") {
		t.Fatalf("the IdP refused the signed request: %d %s (%s)", status, body, idpErrs.last())
	}
	acs, form := formOf(body)
	if status, _, body := b.do("POST", acs, form); status != 200 || !signedIn(b, e.gh.URL) {
		t.Fatalf("ACS: %d %s", status, body)
	}

	other, _ := selfSigned(t, "mallory")
	cases := []struct {
		name, want string
		tamper     func(q url.Values) url.Values
	}{
		{"another ACS in the request", "cannot verify HTTP-Redirect signature", func(q url.Values) url.Values {
			q.Set("SAMLRequest", deflated(t, bytes.Replace(doc, []byte(ar.AssertionConsumerServiceURL), []byte("https://evil.example/acs"), 1)))
			return q
		}},
		{"another RelayState", "cannot verify HTTP-Redirect signature", func(q url.Values) url.Values {
			q.Set("RelayState", strings.Repeat("0", 64))
			return q
		}},
		{"signature removed", "not signed", func(q url.Values) url.Values {
			q.Del("Signature")
			q.Del("SigAlg")
			return q
		}},
		{"signed with another key", "cannot verify HTTP-Redirect signature", func(q url.Values) url.Values {
			signed := "SAMLRequest=" + url.QueryEscape(q.Get("SAMLRequest")) + "&RelayState=" + url.QueryEscape(q.Get("RelayState")) +
				"&SigAlg=" + url.QueryEscape(q.Get("SigAlg"))
			sum := sha256.Sum256([]byte(signed))
			sig, _ := rsa.SignPKCS1v15(rand.Reader, other, crypto.SHA256, sum[:])
			q.Set("Signature", base64.StdEncoding.EncodeToString(sig))
			return q
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := e.browser()
			if status, _, body := b.do("POST", e.idp.URL+"/login", url.Values{"user": {"alice"}, "password": {"pw-alice"}}); status != 200 {
				t.Fatalf("IdP login: %d %s", status, body)
			}
			u := e.samlRedirect(b)
			v := *u
			v.RawQuery = c.tamper(u.Query()).Encode()
			status, _, body := b.do("GET", v.String(), nil)
			if status != 400 || strings.Contains(body, "SAMLResponse") || !strings.Contains(idpErrs.last(), c.want) {
				t.Errorf("the IdP answered the tampered request: %d %.200s (%q, want %q)", status, body, idpErrs.last(), c.want)
			}
			// The same request untouched is still good: the refusal was
			// the tampering's.
			if _, status, body := b.follow(u.String()); status != 200 || !strings.Contains(body, "SAMLResponse") {
				t.Errorf("the untouched request: %d %.200s", status, body)
			}
		})
	}
}

// encrypted reports whether a SAMLResponse form carries its assertion
// encrypted and no assertion in the clear.
func encrypted(t *testing.T, form url.Values) bool {
	t.Helper()
	doc, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(doc, []byte("EncryptedAssertion")) && !bytes.Contains(doc, []byte("<saml:Assertion")) &&
		!bytes.Contains(doc, []byte("alice@example.com"))
}

// TestSAMLEncryptedSignIn: the SP metadata publishes an encryption
// certificate (the current key's, with AES-GCM first), crewjam's IdP
// encrypts to it, and the sign-in works: Gatehouse decrypts with its key.
func TestSAMLEncryptedSignIn(t *testing.T) {
	e := newSSOEnv(t)
	if _, err := e.te.Svc.CreateTeam(t.Context(), e.te.Org.ID, "devs", "Devs", ""); err != nil {
		t.Fatal(err)
	}
	e.configureSAML(true)
	md, _ := e.spMetadataDoc()
	_, certs := e.spKeys()
	enc := keyDescriptors(md, "encryption")
	if len(enc) != 1 || enc[0] != b64(certs[0]) {
		t.Fatalf("encryption certificates %v, want the current key's", enc)
	}
	for _, k := range md.SPSSODescriptors[0].KeyDescriptors {
		if k.Use == "encryption" && (len(k.EncryptionMethods) == 0 || k.EncryptionMethods[0].Algorithm != xmlenc.AES256GCM.Algorithm()) {
			t.Errorf("encryption methods %v, want AES-256-GCM first", k.EncryptionMethods)
		}
	}
	b := e.browser()
	acs, form := e.samlResponse(b, "alice")
	if !encrypted(t, form) {
		t.Fatal("the IdP did not encrypt the assertion")
	}
	if status, _, body := b.do("POST", acs, form); status != 200 || !strings.Contains(body, "Signed in") || !signedIn(b, e.gh.URL) {
		t.Fatalf("ACS: %d %s", status, body)
	}
	if m, err := e.member("alice_example.com"); err != nil || m.User.Email != "alice@example.com" {
		t.Errorf("member = %+v, %v", m, err)
	}
	if teams, _ := e.te.Svc.MemberTeams(t.Context(), e.te.Org.ID, "alice_example.com"); len(teams) != 1 || teams[0] != "devs" {
		t.Errorf("teams = %v, want [devs]: the encrypted assertion's attributes", teams)
	}
}

// forged is a Response an attacker who knows the SP's public encryption
// certificate can make for a sign-in under way: an assertion that names
// nameID, signed with the IdP's key only when signed is set (the test's
// control: the attacker has no such key), encrypted to cert with
// AES-256-GCM, in a Response that is not signed.
func (e *ssoEnv) forged(t *testing.T, ar *saml.AuthnRequest, nameID string, cert *x509.Certificate, signed bool) string {
	t.Helper()
	md, _ := e.spMetadataDoc()
	now := time.Now()
	req := &saml.IdpAuthnRequest{IDP: &e.sidp.IDP, Request: *ar, Now: now, ServiceProviderMetadata: md, SPSSODescriptor: &md.SPSSODescriptors[0],
		ACSEndpoint: &md.SPSSODescriptors[0].AssertionConsumerServices[0], HTTPRequest: httptest.NewRequest("GET", e.idp.URL+"/sso", nil)}
	session := &saml.Session{ID: "forged", NameID: nameID, NameIDFormat: string(saml.EmailAddressNameIDFormat), CreateTime: now,
		ExpireTime: now.Add(time.Hour), Index: "1", UserEmail: nameID}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		t.Fatal(err)
	}
	el := req.Assertion.Element()
	if signed {
		ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{e.sidp.IDP.Certificate.Raw}, PrivateKey: e.sidp.IDP.Key})
		ctx := dsig.NewDefaultSigningContext(ks)
		ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
		if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
			t.Fatal(err)
		}
		s, err := ctx.SignEnveloped(el)
		if err != nil {
			t.Fatal(err)
		}
		req.Assertion.Signature = s.Child[len(s.Child)-1].(*etree.Element)
		el = req.Assertion.Element()
	}
	doc := etree.NewDocument()
	doc.SetRoot(el)
	plain, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	enc := xmlenc.OAEP()
	enc.BlockCipher = xmlenc.AES256GCM
	data, err := enc.Encrypt(cert, plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	data.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	ea := etree.NewElement("saml:EncryptedAssertion")
	ea.AddChild(data)
	resp := &saml.Response{Destination: req.ACSEndpoint.Location, ID: fmt.Sprintf("id-forged-%d", now.UnixNano()), InResponseTo: ar.ID,
		IssueInstant: now, Version: "2.0", Issuer: &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: e.sidp.IDP.MetadataURL.String()},
		Status: saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}}}
	rel := resp.Element()
	rel.AddChild(ea)
	doc = etree.NewDocument()
	doc.SetRoot(rel)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

var responseSignatureRE = regexp.MustCompile(`(?s)^(.*?<samlp:Response[^>]*>.*?</saml:Issuer>)<ds:Signature.*?</ds:Signature>`)

// stripResponseSignature removes the Response's own signature (the
// assertion's is inside the encryption, out of reach).
func stripResponseSignature(t *testing.T, form url.Values) {
	t.Helper()
	doc, _ := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	stripped := responseSignatureRE.ReplaceAll(doc, []byte("$1"))
	if bytes.Equal(stripped, doc) || bytes.Contains(stripped, []byte("<ds:Signature")) {
		t.Fatalf("no Response signature to strip, or more than one:\n%.600s", doc)
	}
	form.Set("SAMLResponse", base64.StdEncoding.EncodeToString(stripped))
}

// TestSAMLEncryptedAttacks: with encrypted assertions, the attacks of
// TestSAMLAttacks still fail; an attacker's assertion encrypted to the
// SP's public certificate but not signed is refused (its signed twin, the
// control, is accepted); a tampered ciphertext is refused; a Response whose
// signature is stripped still signs in with an AES-GCM assertion that is
// signed itself, but not with an AES-CBC one (nothing authenticated the
// ciphertext before decryption); an assertion encrypted to another key is
// refused with a message that says so.
func TestSAMLEncryptedAttacks(t *testing.T) {
	e := newSSOEnv(t)
	e.configureSAML(true)
	t.Run("assertion attacks", func(t *testing.T) {
		b := e.browser()
		if _, form := e.samlResponse(b, "bob"); !encrypted(t, form) {
			t.Fatal("the IdP does not encrypt")
		}
		e.runAssertionAttacks(t)
	})
	_, certs := e.spKeys()
	forge := func(t *testing.T, signed bool) (*ssoBrowser, string, url.Values) {
		b := e.browser()
		u := e.samlRedirect(b)
		ar, _ := authnRequestOf(t, u)
		return b, e.gh.URL + "/console/-/sso/acme/saml/acs", url.Values{"RelayState": {u.Query().Get("RelayState")},
			"SAMLResponse": {e.forged(t, ar, "admin@example.com", certs[0], signed)}}
	}
	t.Run("unsigned encrypted assertion", func(t *testing.T) {
		b, acs, form := forge(t, false)
		// Refused after it decrypted: not the wrong-key message.
		e.refusedPost(t, b, acs, form, 401, "could not be verified")
	})
	t.Run("control: the forgery signed by the IdP", func(t *testing.T) {
		b, acs, form := forge(t, true)
		if status, _, body := b.do("POST", acs, form); status != 200 || !signedIn(b, e.gh.URL) {
			t.Fatalf("the signed twin of the forgery: %d %.300s", status, body)
		}
	})
	t.Run("tampered ciphertext", func(t *testing.T) {
		b := e.browser()
		acs, form := e.samlResponse(b, "alice")
		doc, _ := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
		i := bytes.LastIndex(doc, []byte("</xenc:CipherValue>"))
		if i < 10 {
			t.Fatalf("no ciphertext:\n%.400s", doc)
		}
		flip := map[byte]byte{'A': 'B', 'B': 'A'}
		j := i - 10
		for ; flip[doc[j]] == 0; j-- {
		}
		doc[j] = flip[doc[j]]
		form.Set("SAMLResponse", base64.StdEncoding.EncodeToString(doc))
		e.refusedPost(t, b, acs, form, 401, "")
	})
	t.Run("response signature stripped, AES-GCM", func(t *testing.T) {
		b := e.browser()
		acs, form := e.samlResponse(b, "alice")
		stripResponseSignature(t, form)
		if status, _, body := b.do("POST", acs, form); status != 200 || !signedIn(b, e.gh.URL) {
			t.Fatalf("a signed assertion, GCM-encrypted, in an unsigned Response: %d %.300s", status, body)
		}
	})
	t.Run("AES-CBC", func(t *testing.T) {
		cbc := xmlenc.OAEP()
		cbc.BlockCipher = xmlenc.AES256CBC
		e.sidp.IDP.AssertionEncrypter = cbc
		defer func() { e.sidp.IDP.AssertionEncrypter = nil }()
		// In a signed Response (Okta's and Entra ID's setting) it signs in.
		b := e.browser()
		acs, form := e.samlResponse(b, "alice")
		if doc, _ := base64.StdEncoding.DecodeString(form.Get("SAMLResponse")); !bytes.Contains(doc, []byte("aes256-cbc")) {
			t.Fatalf("the IdP did not use AES-CBC:\n%.400s", doc)
		}
		if status, _, body := b.do("POST", acs, form); status != 200 || !signedIn(b, e.gh.URL) {
			t.Fatalf("CBC in a signed Response: %d %.300s", status, body)
		}
		// Without the Response's signature it is not decrypted at all.
		b = e.browser()
		acs, form = e.samlResponse(b, "alice")
		stripResponseSignature(t, form)
		e.refusedPost(t, b, acs, form, 401, "could not be verified")
	})
	t.Run("encrypted to another key", func(t *testing.T) {
		_, cert := selfSigned(t, "stranger")
		e.registerSPAs(encryptingTo(cert))
		defer e.registerSP()
		b := e.browser()
		acs, form := e.samlResponse(b, "alice")
		e.refusedPost(t, b, acs, form, 401, "encrypted the assertion to a key this organization&#39;s service provider does not hold")
	})
}

// TestSAMLKeyRollover: a rollover through the API, with an IdP that keeps
// encrypting to whichever certificate it was given. A next key is
// published beside the current one (for signing and encryption, the
// current first) and assertions encrypted to it decrypt, while the current
// key still signs; once activated it signs, and assertions encrypted to
// the previous key still decrypt; once the previous key is deleted it is
// no longer published and its assertions are refused, saying why. The
// certificate endpoint serves each published key's PEM.
func TestSAMLKeyRollover(t *testing.T) {
	e := newSSOEnv(t)
	idpErrs := e.recordIdPErrors()
	e.configureSAML(true)
	signIn := func(t *testing.T, want string) {
		t.Helper()
		b := e.browser()
		acs, form := e.samlResponse(b, "alice")
		if !encrypted(t, form) {
			t.Fatal("the IdP did not encrypt")
		}
		status, _, body := b.do("POST", acs, form)
		if want == "" && (status != 200 || !signedIn(b, e.gh.URL)) {
			t.Fatalf("sign-in: %d %.300s (IdP: %s)", status, body, idpErrs.last())
		}
		if want != "" && (status != 401 || !strings.Contains(body, want) || signedIn(b, e.gh.URL)) {
			t.Fatalf("sign-in: %d, want 401 with %q\n%.300s", status, want, body)
		}
	}
	signer := func(t *testing.T, certs []*x509.Certificate) int {
		return redirectSigner(t, e.samlRedirect(e.browser()), certs)
	}
	published := func(t *testing.T, use string, certs ...*x509.Certificate) {
		t.Helper()
		md, _ := e.spMetadataDoc()
		var want []string
		for _, c := range certs {
			want = append(want, b64(c))
		}
		if got := keyDescriptors(md, use); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s certificates published: %d, want %d (in order)", use, len(got), len(want))
		}
	}
	pemOf := func(t *testing.T, query string) (int, string) {
		status, _, body := e.browser().do("GET", e.gh.URL+"/console/-/sso/acme/saml/certificate"+query, nil)
		return status, body
	}

	keys, certs := e.spKeys()
	a, certA := keys[0].ID, certs[0]
	if status, body := pemOf(t, ""); status != 200 || body != keys[0].Certificate {
		t.Errorf("certificate endpoint: %d %q", status, body)
	}

	// Start: a next key, published after the current one.
	var created wire.SAMLSPKeys
	if st := e.api("POST", "/api/orgs/acme/saml/sp-keys", nil, &created); st != 200 {
		t.Fatalf("POST sp-keys: %d", st)
	}
	keys, certs = e.spKeys()
	if len(keys) != 2 || keys[0].ID != a || keys[1].Status != "next" {
		t.Fatalf("keys = %+v", keys)
	}
	b, certB := keys[1].ID, certs[1]
	published(t, "signing", certA, certB)
	published(t, "encryption", certA, certB)
	if status, body := pemOf(t, "?id="+b); status != 200 || body != keys[1].Certificate {
		t.Errorf("certificate endpoint ?id=next: %d %q", status, body)
	}
	both := []*x509.Certificate{certA, certB}
	if i := signer(t, both); i != 0 {
		t.Errorf("before activation the request is signed by key %d, want the current (0)", i)
	}
	e.registerSP() // the IdP reads the metadata again: it encrypts to the first, the current
	signIn(t, "")
	e.registerSPAs(encryptingTo(certB)) // an IdP given the new certificate early
	signIn(t, "")

	// Switch: the next key signs; the previous one still decrypts.
	if st := e.api("POST", "/api/orgs/acme/saml/sp-keys/"+b+"/activate", nil, nil); st != 200 {
		t.Fatalf("activate: %d", st)
	}
	published(t, "signing", certB, certA)
	published(t, "encryption", certB, certA)
	if i := signer(t, both); i != 1 {
		t.Errorf("after activation the request is signed by key %d, want the new one (1)", i)
	}
	e.registerSPAs(encryptingTo(certA)) // an IdP not updated yet
	signIn(t, "")
	e.registerSP()
	signIn(t, "")

	// End: the previous key is gone.
	if st := e.api("DELETE", "/api/orgs/acme/saml/sp-keys/"+a, nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	published(t, "signing", certB)
	published(t, "encryption", certB)
	if status, _ := pemOf(t, "?id="+a); status != 404 {
		t.Errorf("certificate endpoint for a deleted key: %d", status)
	}
	e.registerSPAs(encryptingTo(certA))
	signIn(t, "encrypted the assertion to a key this organization&#39;s service provider does not hold")
	e.registerSP()
	signIn(t, "")
}
