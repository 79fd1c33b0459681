package awstest

import (
	"encoding/json"
	"net/http"
	"slices"
)

// kmsTargetPrefix is the X-Amz-Target service of KMS: TrentService.Decrypt.
const kmsTargetPrefix = "TrentService"

// kmsKeyID is the key id Decrypt answers.
const kmsKeyID = "00000000-0000-4000-8000-0000a0275e57"

// AddKMSPlaintext makes Decrypt of ciphertext answer plaintext, for every
// account and region.
func (s *Server) AddKMSPlaintext(ciphertext, plaintext []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kms[string(ciphertext)] = slices.Clone(plaintext)
}

// kmsProtocol answers the JSON 1.1 protocol of KMS.
type kmsProtocol struct{}

var kmsActions = map[string]handler{
	"Decrypt": (*Server).decrypt,
}

func (kmsProtocol) handler(action string) (handler, bool) {
	h, ok := kmsActions[action]
	return h, ok
}

const kmsContentType = "application/x-amz-json-1.1"

func (p kmsProtocol) writeResult(w http.ResponseWriter, r *request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		p.writeError(w, r, errorf(http.StatusInternalServerError, "KMSInternalException", "encoding the response: %v", err))
		return
	}
	writeBody(w, kmsContentType, http.StatusOK, body)
}

type kmsError struct {
	Type    string `json:"__type"`
	Message string `json:"message,omitempty"`
}

func (kmsProtocol) writeError(w http.ResponseWriter, r *request, e *apiError) {
	body, err := json.Marshal(kmsError{Type: e.code, Message: e.message})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, kmsContentType, e.status, body)
}

type decryptInput struct {
	CiphertextBlob []byte
	KeyID          string `json:"KeyId"`
}

type decryptOutput struct {
	KeyID               string `json:"KeyId"`
	Plaintext           []byte
	EncryptionAlgorithm string
}

func (s *Server) decrypt(r *request) (any, error) {
	var in decryptInput
	if err := json.Unmarshal(r.body, &in); err != nil {
		return nil, errorf(http.StatusBadRequest, "SerializationException", "%v", err)
	}
	if len(in.CiphertextBlob) == 0 {
		return nil, errorf(http.StatusBadRequest, "ValidationException", "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	plain, ok := s.kms[string(in.CiphertextBlob)]
	if !ok {
		return nil, errorf(http.StatusBadRequest, "InvalidCiphertextException", "The ciphertext is invalid or was not encrypted by this server")
	}
	return decryptOutput{
		KeyID:               "arn:aws:kms:" + r.region + ":" + r.account + ":key/" + kmsKeyID,
		Plaintext:           plain,
		EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
	}, nil
}
