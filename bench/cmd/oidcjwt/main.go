// Command oidcjwt makes an RSA key, prints its public JWKS to a file and a
// GitHub-shaped ID token signed with it, for load-testing token exchange
// against an issuer registered with a static key set.
//
//	oidcjwt -iss https://ci.example -aud acme -jwks jwks.json > token
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func main() {
	iss := flag.String("iss", "https://ci.example", "issuer")
	aud := flag.String("aud", "acme", "audience")
	jwksPath := flag.String("jwks", "jwks.json", "where to write the public key set")
	life := flag.Duration("life", time.Hour, "token lifetime")
	flag.Parse()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		log.Fatal(err)
	}
	ks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "load", Algorithm: "RS256", Use: "sig"}}}
	b, _ := json.Marshal(ks)
	if err := os.WriteFile(*jwksPath, b, 0o600); err != nil {
		log.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "load"))
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	tok, err := jwt.Signed(signer).Claims(map[string]any{"iss": *iss, "aud": *aud, "iat": now.Unix(), "exp": now.Add(*life).Unix(),
		"sub": "repo:acme/app:environment:prod", "repository": "acme/app", "environment": "prod"}).Serialize()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(tok)
}
