package pierone_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/fullstop-audit/fullstop/lookup/pierone"
)

func TestSCMSource(t *testing.T) {
	const p = "/teams/stups/artifacts/kio/tags/"
	big := `{"url":"` + strings.Repeat("x", pierone.MaxBodyBytes) + `"}`
	alpha := newRegistry(t, map[string]reply{
		p + "1.0/scm-source": {status: 200, body: `{"url":"git:git@github.com:zalando-stups/kio.git",
			"revision":"cd768599e1bb41c38279c26254feba5cf57bf967","author":"robot","status":""}`},
		p + "dirty/scm-source": {status: 200, body: `{"url":"https://github.com/o/r","status":"M foo.txt"}`},
		p + "odd/scm-source":   {status: 200, body: `{"url":"u","n":7,"f":1.50,"b":true,"z":null,"o":{ "a" : [1, 2] },"a":[ "x" ],"e":"\u00e9\n"}`},
		p + "empty/scm-source": {status: 200, body: `{}`},
		p + "fail/scm-source":  {status: 500, body: secret},
		p + "html/scm-source":  {status: 200, body: `<html>`},
		p + "array/scm-source": {status: 200, body: `["url"]`},
		p + "null/scm-source":  {status: 200, body: `null`},
		p + "big/scm-source":   {status: 200, body: big},
		p + "slow/scm-source":  {status: 200, body: `{}`, delay: 5 * time.Second},
		p + "a%2Fb/scm-source": {status: 200, body: `{"url":"esc"}`},
		p + "4.0/scm-source":   {status: 200, body: `{"url":"alpha"}`},
	})
	beta := newRegistry(t, map[string]reply{
		"/teams/stups/artifacts/kio/tags/4.0/scm-source": {status: 200, body: `{"url":"beta"}`},
	})
	hc := hostClient(t, map[string]*registry{"alpha.test": alpha, "beta.test": beta})

	tests := []struct {
		name                string
		token               oauth2.TokenSource
		registry, tag       string
		timeout             time.Duration
		want                map[string]string
		wantFound           bool
		wantErr             string
		wantAlpha, wantBeta string
		wantAuth            string
	}{
		{name: "found", registry: "alpha.test", tag: "1.0", wantFound: true, wantAlpha: p + "1.0/scm-source",
			want: map[string]string{"url": "git:git@github.com:zalando-stups/kio.git", "revision": "cd768599e1bb41c38279c26254feba5cf57bf967", "author": "robot", "status": ""}},
		{name: "dirty", registry: "alpha.test", tag: "dirty", wantFound: true, wantAlpha: p + "dirty/scm-source",
			want: map[string]string{"url": "https://github.com/o/r", "status": "M foo.txt"}},
		{name: "non-string values", registry: "alpha.test", tag: "odd", wantFound: true, wantAlpha: p + "odd/scm-source",
			want: map[string]string{"url": "u", "n": "7", "f": "1.50", "b": "true", "z": "", "o": `{"a":[1,2]}`, "a": `["x"]`, "e": "é\n"}},
		{name: "empty object", registry: "alpha.test", tag: "empty", wantFound: true, want: map[string]string{}, wantAlpha: p + "empty/scm-source"},
		{name: "404", registry: "alpha.test", tag: "nope", wantAlpha: p + "nope/scm-source"},
		{name: "chosen by host: alpha", registry: "alpha.test", tag: "4.0", wantFound: true, want: map[string]string{"url": "alpha"}, wantAlpha: p + "4.0/scm-source"},
		{name: "chosen by host: beta", registry: "beta.test", tag: "4.0", wantFound: true, want: map[string]string{"url": "beta"}, wantBeta: p + "4.0/scm-source"},
		{name: "registry with a port", registry: "beta.test:5000", tag: "4.0", wantFound: true, want: map[string]string{"url": "beta"}, wantBeta: p + "4.0/scm-source"},
		{name: "unknown registry", registry: "registry.opensource.zalan.do", tag: "1.0"},
		{name: "dot tag", registry: "alpha.test", tag: "."},
		{name: "tag escaped", registry: "alpha.test", tag: "a/b", wantFound: true, want: map[string]string{"url": "esc"}, wantAlpha: p + "a%2Fb/scm-source"},
		{name: "500", registry: "alpha.test", tag: "fail", wantErr: "GET http://alpha.test:80" + p + "fail/scm-source: HTTP 500", wantAlpha: p + "fail/scm-source"},
		{name: "not JSON", registry: "alpha.test", tag: "html", wantErr: "undecodable JSON", wantAlpha: p + "html/scm-source"},
		{name: "not an object", registry: "alpha.test", tag: "array", wantErr: "undecodable JSON", wantAlpha: p + "array/scm-source"},
		{name: "null", registry: "alpha.test", tag: "null", wantErr: "JSON null", wantAlpha: p + "null/scm-source"},
		{name: "body over 1 MiB", registry: "alpha.test", tag: "big", wantErr: "larger than 1048576 bytes", wantAlpha: p + "big/scm-source"},
		{name: "timeout", registry: "alpha.test", tag: "slow", timeout: 50 * time.Millisecond, wantErr: "context deadline exceeded", wantAlpha: p + "slow/scm-source"},
		{name: "token sent", token: staticToken, registry: "alpha.test", tag: "1.0", wantFound: true, wantAlpha: p + "1.0/scm-source", wantAuth: "Bearer " + secret,
			want: map[string]string{"url": "git:git@github.com:zalando-stups/kio.git", "revision": "cd768599e1bb41c38279c26254feba5cf57bf967", "author": "robot", "status": ""}},
		{name: "token not leaked", token: staticToken, registry: "alpha.test", tag: "fail", wantErr: "HTTP 500", wantAlpha: p + "fail/scm-source", wantAuth: "Bearer " + secret},
		{name: "token error", token: errTokenSource{}, registry: "alpha.test", tag: "1.0", wantErr: "no service token"},
		{name: "empty token", token: oauth2.StaticTokenSource(&oauth2.Token{}), registry: "alpha.test", tag: "1.0", wantErr: "service token is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := pierone.New(pierone.Config{URLs: []string{"http://alpha.test:80", "http://beta.test"}, Token: tt.token, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			alphaBefore, _ := alpha.requests()
			betaBefore, _ := beta.requests()
			got, found, err := c.SCMSource(ctx, tt.registry, "stups", "kio", tt.tag)
			checkErr(t, err, tt.wantErr)
			if found != tt.wantFound || !maps.Equal(got, tt.want) || (found && got == nil) {
				t.Errorf("SCMSource = %q, %v; want %q, %v", got, found, tt.want, tt.wantFound)
			}
			checkRequest(t, "alpha", alpha, len(alphaBefore), tt.wantAlpha, tt.wantAuth)
			checkRequest(t, "beta", beta, len(betaBefore), tt.wantBeta, tt.wantAuth)
		})
	}
}

func TestEmptyConfigKnowsNoRegistry(t *testing.T) {
	c, err := pierone.New(pierone.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if ok, err := c.TagExists(ctx, "registry.opensource.zalan.do", "t", "a", "1"); ok || err != nil {
		t.Errorf("TagExists = %v, %v; want false, nil", ok, err)
	}
	if src, found, err := c.SCMSource(ctx, "registry.opensource.zalan.do", "t", "a", "1"); src != nil || found || err != nil {
		t.Errorf("SCMSource = %v, %v, %v; want nil, false, nil", src, found, err)
	}
}
