package api

import (
	"encoding/base64"

	"github.com/gatehouse-iam/gatehouse"
	"github.com/gatehouse-iam/gatehouse/api/wire"
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
	return resp, nil
}

// logDecryption records what the CLI says it decrypted itself, with a
// secrets provider of its own: the service keeps it apart from its own
// decryptions, as client-reported (RecordClientDecryption).
func (s *Server) logDecryption(q *request) (any, error) {
	var in wire.Log3rdPartyDecryptionEvent
	if err := q.decodeCLI(&in); err != nil {
		return nil, err
	}
	return nil, s.svc.RecordClientDecryption(q.ctx(), q.stack, in.SecretName, in.CommandName)
}
