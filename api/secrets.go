package api

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
	"github.com/gatehouse-iam/gatehouse/service"
)

func (s *Server) encryptValue(q *request) (any, error) {
	var in wire.EncryptValueRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.Plaintext == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "plaintext: missing")
	}
	out, err := s.svc.Encrypt(q.ctx(), q.stack, [][]byte{in.Plaintext})
	if err != nil {
		return nil, err
	}
	return wire.EncryptValueResponse{Ciphertext: out[0]}, nil
}

func (s *Server) batchEncrypt(q *request) (any, error) {
	var in wire.BatchEncryptRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.Plaintexts == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "plaintexts: missing")
	}
	out, err := s.svc.Encrypt(q.ctx(), q.stack, in.Plaintexts)
	if err != nil {
		return nil, err
	}
	return wire.BatchEncryptResponse{Ciphertexts: out}, nil
}

func (s *Server) decryptValue(q *request) (any, error) {
	var in wire.DecryptValueRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.Ciphertext == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ciphertext: missing")
	}
	out, err := s.svc.Decrypt(q.ctx(), q.stack, [][]byte{in.Ciphertext})
	if err != nil {
		return nil, err
	}
	s.auditDecrypt(q, 1)
	return wire.DecryptValueResponse{Plaintext: out[0]}, nil
}

func (s *Server) batchDecrypt(q *request) (any, error) {
	var in wire.BatchDecryptRequest
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	if in.Ciphertexts == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "ciphertexts: missing")
	}
	out, err := s.svc.Decrypt(q.ctx(), q.stack, in.Ciphertexts)
	if err != nil {
		return nil, err
	}
	resp := wire.BatchDecryptResponse{Plaintexts: make(map[string][]byte, len(out))}
	for i, p := range out {
		resp.Plaintexts[base64.StdEncoding.EncodeToString(in.Ciphertexts[i])] = p
	}
	s.auditDecrypt(q, len(out))
	return resp, nil
}

// auditDecrypt records that secrets of a stack were read: how many, never
// which or what.
func (s *Server) auditDecrypt(q *request, n int) {
	s.audit.add(service.NewAuditEvent(q.ctx(), s.now(), q.org.ID, gatehouse.EventSecretsDecrypted,
		fmt.Sprintf("decrypted %d secret(s) of stack %s/%s", n, q.stack.Project, q.stack.Name), q.stack.ID, map[string]int{"count": n}))
}

// logDecryption records what the CLI says it decrypted itself, with a
// secrets provider of its own. The server did not see it happen, so it is
// never the server's stack_secrets_decrypted event: it is recorded as
// client-reported, the client's words bounded and kept under
// clientReported.
func (s *Server) logDecryption(q *request) (any, error) {
	var in wire.Log3rdPartyDecryptionEvent
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	s.audit.add(service.NewAuditEvent(q.ctx(), s.now(), q.org.ID, gatehouse.EventClientReportedDecryption,
		fmt.Sprintf("the client reported decrypting secrets of stack %s/%s with its own secrets provider", q.stack.Project, q.stack.Name), q.stack.ID,
		map[string]any{"clientReported": map[string]string{"secretName": clientText(in.SecretName), "commandName": clientText(in.CommandName)}}))
	return nil, nil
}

// clientText bounds what a client reports for the audit log: valid UTF-8,
// no control characters, at most 256 bytes.
func clientText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > 256 {
		s = strings.ToValidUTF8(s[:256], "")
	}
	return s
}
