package auth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// The defaults of JWTConfig and the limits of the key set's fetches.
const (
	// DefaultPrincipalClaim is the claim naming the principal by default.
	DefaultPrincipalClaim = "sub"
	// DefaultJWKSRefreshInterval is how often the key set is fetched by
	// default.
	DefaultJWKSRefreshInterval = time.Hour
	// DefaultJWTLeeway is the default allowance for clock skew on exp and
	// nbf.
	DefaultJWTLeeway = 30 * time.Second
	// jwksTimeout bounds one fetch of the key set (and is the timeout of
	// the default client).
	jwksTimeout = 5 * time.Second
	// unknownKIDRefreshEvery is the least time between two fetches caused
	// by a token signed with a key the set does not hold.
	unknownKIDRefreshEvery = time.Minute
	// maxJWTLength bounds the tokens parsed.
	maxJWTLength = 16 << 10
)

// jwtAlgorithms are the signing algorithms accepted: asymmetric ones only,
// so never "none" nor HS256 keyed with a public key.
var jwtAlgorithms = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// JWTConfig configures JWT.
type JWTConfig struct {
	// JWKSURL is the identity provider's JSON Web Key Set
	// (FULLSTOP_JWKS_URL); required.
	JWKSURL string
	// Issuer must equal the token's "iss" (FULLSTOP_JWT_ISSUER); required.
	Issuer string
	// Audience must be among the token's "aud" (FULLSTOP_JWT_AUDIENCE);
	// required.
	Audience string
	// PrincipalClaim names the claim holding the principal's id; empty
	// means DefaultPrincipalClaim.
	PrincipalClaim string
	// RefreshInterval is how often the key set is fetched again; zero
	// means DefaultJWKSRefreshInterval. A token with an unknown key id
	// also causes a fetch, at most once a minute.
	RefreshInterval time.Duration
	// Client fetches the key set; nil means a client with a 5 s timeout.
	Client *http.Client
	// Leeway is the allowance for clock skew on exp and nbf; zero means
	// DefaultJWTLeeway.
	Leeway time.Duration
	// Log receives a warning when the key set cannot be fetched; nil
	// means slog.Default().
	Log *slog.Logger
}

// JWT verifies JSON Web Tokens signed with a key of an identity
// provider's key set, fetched with github.com/MicahParks/keyfunc and
// refreshed in the background.
//
// A token failing a check is refused with ErrUnauthorized. When the key
// set could not be fetched — never since the start, or the latest fetch
// failed — a token whose key cannot be found is answered with
// ErrUnavailable instead, because the fault lies with the identity
// provider, not the token. See jwksHealth for how the outage is detected.
type JWT struct {
	keys           keyfunc.Keyfunc
	storage        jwkset.Storage
	health         *jwksHealth
	parser         *jwt.Parser
	principalClaim string
}

// NewJWT returns a JWT for cfg. It fetches the key set once but does not
// fail when the identity provider is down (tokens are then answered with
// ErrUnavailable until a fetch succeeds); it fails on an invalid
// configuration. Ending ctx stops the background refresh.
func NewJWT(ctx context.Context, cfg JWTConfig) (*JWT, error) {
	cfg, err := checkJWTConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	u, err := parseServiceURL("JWKS URL", cfg.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	health := &jwksHealth{}
	shownURL := u.Redacted()
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	fetched, err := jwkset.NewStorageFromHTTP(u.String(), jwkset.HTTPClientStorageOptions{
		Client:                    clientOr(cfg.Client, jwksTimeout),
		Ctx:                       ctx,
		HTTPTimeout:               jwksTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler: func(ctx context.Context, err error) {
			health.failed(err)
			log.WarnContext(ctx, "auth: cannot fetch the JWKS", "url", shownURL, "err", err)
		},
		RefreshInterval: cfg.RefreshInterval,
		Storage:         trackedStorage{MemoryJWKSet: jwkset.NewMemoryStorage(), health: health},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", shownURL, err)
	}
	storage, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{u.String(): fetched},
		RateLimitWaitMax:  jwksTimeout,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDRefreshEvery), 1),
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", shownURL, err)
	}
	keys, err := keyfunc.New(keyfunc.Options{
		Ctx:          ctx,
		Storage:      storage,
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS %s: %w", shownURL, err)
	}
	return &JWT{
		keys:    keys,
		storage: storage,
		health:  health,
		parser: jwt.NewParser(
			jwt.WithValidMethods(jwtAlgorithms),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(cfg.Leeway),
		),
		principalClaim: cfg.PrincipalClaim,
	}, nil
}

// checkJWTConfig rejects a configuration lacking a required setting and
// fills in the defaults.
func checkJWTConfig(cfg JWTConfig) (JWTConfig, error) {
	cfg.Issuer = strings.TrimSpace(cfg.Issuer)
	cfg.Audience = strings.TrimSpace(cfg.Audience)
	cfg.PrincipalClaim = strings.TrimSpace(cfg.PrincipalClaim)
	switch {
	case strings.TrimSpace(cfg.JWKSURL) == "":
		return cfg, fmt.Errorf("JWKS URL is not set")
	case cfg.Issuer == "":
		return cfg, fmt.Errorf("JWT issuer is not set")
	case cfg.Audience == "":
		return cfg, fmt.Errorf("JWT audience is not set")
	case cfg.RefreshInterval < 0:
		return cfg, fmt.Errorf("JWKS refresh interval %s is negative", cfg.RefreshInterval)
	case cfg.Leeway < 0:
		return cfg, fmt.Errorf("JWT leeway %s is negative", cfg.Leeway)
	}
	if cfg.PrincipalClaim == "" {
		cfg.PrincipalClaim = DefaultPrincipalClaim
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = DefaultJWKSRefreshInterval
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultJWTLeeway
	}
	return cfg, nil
}
