// Package lark reads alerts from a Lark (Feishu) group chat into an
// issues.Tracker: a client of the Lark Open API reads the chat's history,
// a Parser turns each alert card into alerts, and a Source ingests them,
// page by page, with the same grouping, escalation and lifecycle as
// Alertmanager webhook alerts, into the same store. Client, Parser and
// Source are safe for concurrent use and start no goroutine.
//
// # Usage
//
//	c := lark.NewClient(appID, appSecret, &lark.ClientOptions{BaseURL: lark.LarkBaseURL})
//	cursors, err := lark.NewSQLCursorStore(ctx, db, "")       // next to issues.NewSQLStore(ctx, db, nil)
//	src := lark.NewSource(c, tracker, &lark.SourceOptions{Cursors: cursors})
//	stats, err := src.Run(ctx, "oc_...", lark.Backfill(30))  // then lark.CatchUp() every few minutes
//
// Run (the function) does the same from a Config a program fills from its
// flags (RegisterFlags declares the -lark-* flags, Flags.Config reads
// them): a first run in one mode, then, optionally, a catch-up of every
// chat at an interval until its context ends. The larktest package is an
// Open API simulator for tests.
//
// # Modes
//
//   - Backfill(N) reads the last N days.
//   - CatchUp() reads from the chat's Cursor: the create time of the last
//     message ingested. The API filters on whole seconds, so the cursor's
//     second is read again and the messages of it already ingested (kept
//     in the cursor) are skipped. A chat without a cursor is read from
//     SourceOptions.FirstCatchUp ago (default 24 h). Catch-up sees new
//     messages; an edit of an older message is seen by a later Backfill or
//     Today.
//   - Today() reads from the last midnight in SourceOptions.Location.
//
// Every mode moves the cursor forward after each page (never back), so a
// catch-up after a backfill starts where it ended. A run stopped at any
// point (its context, a failure, a crash) is safe to run again: the
// tracker stores each alert once, and the cursor only moves past pages
// whose alerts are stored.
//
// # Ids
//
// A card alert's identity is its message id and its position in the card,
// set as its issues.Alert.ID: "om_...#2" for the second alert of a card,
// stored under that id as-is when firing and as "om_...#2/resolved" when
// resolved (issues.ResolvedSuffix). Its StartsAt is the message's create
// time. Re-reading a message is a no-op, a card with a Firing and a
// Resolved section gives two alerts, webhook ids ("wh_" and a hash) never
// collide with them, and a card edited in place from firing to resolved
// resolves its own firing. An alert resolved by a later card is a new
// alert (cards carry no Alertmanager fingerprint to pair them). The
// tracker's IDScheme does not apply to these alerts.
//
// # Cards
//
// The history API returns cards in one of two shapes, both read by
// ParseCard:
//
//   - By default, a flattened projection {"title": ..., "elements":
//     [[node, ...], ...]}: one row per card element; bold markers removed
//     (a bold label is its own text node), line breaks kept in the text,
//     links as {"tag":"a","href","text"} nodes, dividers as rows
//     [{"tag":"hr"}], buttons without their URLs. JSON 2.0 cards, and cards
//     it cannot render, come back as a placeholder shell (an image and
//     "请升级至最新版本客户端，以查看内容", "please upgrade to the latest
//     client", or "卡片内容不支持查看"): ErrPlaceholder, counted and reported,
//     never an alert.
//   - With ClientOptions.CardsAsSent (card_msg_content_type=
//     user_card_content), the card as sent: JSON 1.0 ("header", "elements"
//     of div/markdown/hr/action/note/column_set) or 2.0 ("schema": "2.0",
//     "body.elements"), with lark_md text ("**Label:** value",
//     "[text](url)").
//
// Sections (parts between dividers) are separate alerts; a Template says
// how to find the fields in them (labels, status words, where a new alert
// starts). DefaultTemplates are Grafana (its default notification text)
// and StarRocks ("Label: value" cards, English and Chinese labels). Cards
// without any template field are not alerts (counted); parts with fields
// but no alert name are reported. A recalled message (deleted: true, its
// content the plain text "This message was recalled") is counted, never
// parsed.
//
// # The Open API facts the client relies on
//
//   - Hosts: https://open.feishu.cn (Feishu) and https://open.larksuite.com
//     (Lark), same paths. Every answer is JSON with "code" (0 = success)
//     and "msg"; the code decides, whatever the HTTP status (token errors
//     come with 200, 400 or 401).
//   - POST /open-apis/auth/v3/tenant_access_token/internal with app_id and
//     app_secret answers tenant_access_token and expire (seconds, at most
//     7200) at the top level. The token is cached until TokenMargin
//     (3 min) before it expires, and dropped and fetched again when a
//     request is answered 99991663 (invalid or expired), 99991661
//     (missing) or 99991671 (malformed); the request is then repeated
//     once.
//   - GET /open-apis/im/v1/messages with container_id_type=chat,
//     container_id, start_time and end_time in SECONDS (create_time and
//     update_time in answers are milliseconds), sort_type=ByCreateTimeAsc
//     (it must not change during a walk), page_size=50 (the maximum);
//     page_token is followed until has_more is false (a page_token may be
//     present on the last page too). The bot must be in the group and the
//     app needs im:message.group_msg besides a message-read scope. In an
//     ordinary group this lists only the root message of each topic:
//     replies inside topics are not read.
//   - Limits: 50 requests/s and 1000/min per app and tenant for this API.
//     The client keeps under both on its side (a sliding window each), and
//     on HTTP 429 or code 99991400 waits x-ogw-ratelimit-reset seconds,
//     or on 5xx and network errors an exponential back-off (500 ms
//     doubling to MaxBackoff), plus up to 50% random jitter, then repeats
//     the same page request (Retries times at most).
//   - Feishu's free edition shares 10,000 API calls a month among a
//     tenant's self-built apps (code 99991403 beyond): a catch-up every 5
//     minutes costs about 8,600 calls a month per chat.
//
// # Why net/http and not the official SDK
//
// github.com/larksuite/oapi-sdk-go/v3 (v3.13.0 on the module proxy) links
// 155 third-party packages for a client and the im/v1 service (its root
// package imports every service of the platform; 138 of the packages are
// the SDK's own, 26 MB of source), more than the whole issues package. It
// would not do the work either: its token retry re-reads the rejected
// token from its cache, and it returns rate-limit and 5xx answers without
// retrying. The two endpoints above, with the token cache, the limiter
// and the retries, take under 500 lines of net/http (client.go).
//
// # Errors
//
// API answers with a non-zero code are *APIError (with the code, the HTTP
// status and the X-Tt-Logid to quote to Lark support); a request that
// still fails after its retries wraps the last one. ParseCard returns
// ErrPlaceholder, ErrNotAlert or ErrBadContent; Source.Run counts these
// in Stats (Problems says which messages) and returns only what stops a
// run: the API after its retries, the tracker, the cursor store, the
// legacy writer, or the context's error. An alert the tracker rejects
// (*issues.AlertError) is reported in Stats and the rest of its page
// ingested.
//
// # Legacy rows
//
// SourceOptions.Legacy (SQLLegacyTable) also writes each alert card as one
// LegacyRow, its alerts' fields joined with "|", keyed by message id, for
// tables of that shape.
package lark
