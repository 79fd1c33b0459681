package auth

import (
	"context"
	"testing"
)

func TestPrincipalHasScope(t *testing.T) {
	p := Principal{UID: "jdoe", Scopes: []string{"uid", "fullstop.violation.write"}}
	if !p.HasScope("uid") || !p.HasScope("fullstop.violation.write") {
		t.Errorf("HasScope misses a scope of %v", p.Scopes)
	}
	if p.HasScope("fullstop.whitelist.write") {
		t.Error("HasScope reports a scope the principal lacks")
	}
	if !(Principal{All: true}).HasScope("anything") {
		t.Error("a principal with every right lacks a scope")
	}
}

func TestNoneGrantsEverything(t *testing.T) {
	for _, token := range []string{"", "None", "whatever-token"} {
		p, err := None{}.Verify(context.Background(), token)
		if err != nil {
			t.Fatalf("Verify(%q): %v", token, err)
		}
		if p.UID != "local" || !p.All {
			t.Errorf("Verify(%q) = %+v, want the local principal with every right", token, p)
		}
	}
}
