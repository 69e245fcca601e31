package sdk

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// authorizingNetwork answers the Authorizer calls from fields and records what reached it.
type authorizingNetwork struct {
	*fakeNetwork
	gotAuth     AuthRequest
	gotExchange ExchangeRequest
	gotRefresh  Credentials
	creds       Credentials
	refreshErr  error
}

func (a *authorizingNetwork) AuthCodeURL(_ context.Context, req AuthRequest) (string, error) {
	a.gotAuth = req
	return "https://net.example/authorize?state=" + req.State, nil
}

func (a *authorizingNetwork) Exchange(_ context.Context, req ExchangeRequest) (Credentials, error) {
	a.gotExchange = req
	return a.creds, nil
}

func (a *authorizingNetwork) Refresh(_ context.Context, c Credentials) (Credentials, error) {
	a.gotRefresh = c
	return a.creds, a.refreshErr
}

// Authorizer is an add-on: a network without it answers Permanent to each call; one with
// it gets the requests and returns credentials unchanged through protobuf.
func TestAuthorizerAddOn(t *testing.T) {
	ctx := context.Background()
	plain := dial(t, &fakeNetwork{})
	if _, err := plain.AuthCodeURL(ctx, AuthRequest{State: "s"}); KindOf(err) != Permanent {
		t.Errorf("AuthCodeURL on a network without Authorizer = %v, want permanent", err)
	}
	if _, err := plain.Exchange(ctx, ExchangeRequest{Code: "c"}); KindOf(err) != Permanent {
		t.Errorf("Exchange on a network without Authorizer = %v, want permanent", err)
	}
	if _, err := plain.Refresh(ctx, Credentials{RefreshToken: "r"}); KindOf(err) != Permanent {
		t.Errorf("Refresh on a network without Authorizer = %v, want permanent", err)
	}

	want := Credentials{AccessToken: "at", RefreshToken: "rt", Subject: "@brand",
		ExpiresAt:        time.Date(2026, 5, 1, 9, 0, 0, 123, time.UTC),
		RefreshExpiresAt: time.Date(2027, 5, 1, 9, 0, 0, 0, time.UTC),
		Extra:            map[string]string{"page_id": "42"}}
	impl := &authorizingNetwork{fakeNetwork: &fakeNetwork{}, creds: want}
	c := dial(t, impl)
	req := AuthRequest{RedirectURI: "https://tact.example/oauth/callback", State: "st4te", CodeChallenge: "ch"}
	u, err := c.AuthCodeURL(ctx, req)
	if err != nil || u != "https://net.example/authorize?state=st4te" || impl.gotAuth != req {
		t.Fatalf("AuthCodeURL = %q, %v; plugin got %+v", u, err, impl.gotAuth)
	}
	ex := ExchangeRequest{Code: "c0de", CodeVerifier: "v", RedirectURI: req.RedirectURI}
	got, err := c.Exchange(ctx, ex)
	if err != nil || !reflect.DeepEqual(got, want) || impl.gotExchange != ex {
		t.Fatalf("Exchange = %+v, %v; want %+v; plugin got %+v", got, err, want, impl.gotExchange)
	}
	got, err = c.Refresh(ctx, want)
	if err != nil || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(impl.gotRefresh, want) {
		t.Fatalf("Refresh = %+v, %v; plugin got %+v", got, err, impl.gotRefresh)
	}
	impl.refreshErr = Errorf(Auth, "invalid_grant: the refresh token was revoked")
	if _, err := c.Refresh(ctx, want); KindOf(err) != Auth {
		t.Fatalf("a refused refresh arrived as %v, want auth", err)
	}
}
