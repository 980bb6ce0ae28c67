package lark

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// Flags are the command-line flags of a program that reads Lark chats
// (examples/alert-tracker is one): RegisterFlags declares them on a
// FlagSet, Config reads them after it is parsed.
//
//	-lark-app-id ID            the self-built app; its secret in SQLSHADOW_LARK_APP_SECRET
//	-lark-app-secret-file F    or in this file
//	-lark-chat oc_...          a chat to read (repeatable, or comma-separated)
//	-lark-mode M               backfill=N (days), catch-up or today: the first run (default catch-up)
//	-lark-base-url URL         the Open API host (default FeishuBaseURL)
//	-lark-every D              catch-up at this interval after the first run (default 0: none)
//	-lark-tz ZONE              the time zone of today's midnight (default UTC)
type Flags struct {
	appID, secretFile, mode, baseURL, tz *string
	every                                *time.Duration
	chats                                []string
}

// RegisterFlags declares the -lark-* flags on fs.
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	f.appID = fs.String("lark-app-id", "", "Lark/Feishu app id: read alert cards from -lark-chat (secret in "+SecretEnv+" or -lark-app-secret-file)")
	f.secretFile = fs.String("lark-app-secret-file", "", "read the Lark app secret from this file")
	fs.Func("lark-chat", "Lark chat id oc_... to read (repeatable, or comma-separated)", func(s string) error {
		for _, c := range strings.Split(s, ",") {
			if c = strings.TrimSpace(c); c != "" {
				f.chats = append(f.chats, c)
			}
		}
		return nil
	})
	f.mode = fs.String("lark-mode", "catch-up", "first Lark run: backfill=N (days), catch-up or today")
	f.baseURL = fs.String("lark-base-url", FeishuBaseURL, "Open API host ("+LarkBaseURL+" for Lark)")
	f.every = fs.Duration("lark-every", 0, "catch up the Lark chats at this interval after the first run (0: once)")
	f.tz = fs.String("lark-tz", "UTC", "time zone of the Lark today mode's midnight")
	return f
}

// Config returns the Config the flags give, the secret read with ReadSecret
// from getenv (pass os.Getenv) or -lark-app-secret-file. ok is false, with
// no error, when -lark-app-id is empty: no Lark source.
func (f *Flags) Config(getenv func(string) string) (cfg Config, ok bool, err error) {
	if *f.appID == "" {
		return Config{}, false, nil
	}
	cfg = Config{AppID: *f.appID, BaseURL: *f.baseURL, Chats: f.chats, Every: *f.every}
	if len(cfg.Chats) == 0 {
		return Config{}, false, fmt.Errorf("lark: -lark-app-id needs at least one -lark-chat")
	}
	if cfg.AppSecret, err = ReadSecret(getenv, *f.secretFile); err != nil {
		return Config{}, false, err
	}
	if cfg.Mode, err = ParseMode(*f.mode); err != nil {
		return Config{}, false, err
	}
	if cfg.Location, err = time.LoadLocation(*f.tz); err != nil {
		return Config{}, false, fmt.Errorf("lark: -lark-tz: %w", err)
	}
	return cfg, true, nil
}
