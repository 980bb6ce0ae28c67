package mirror

import (
	"context"
	"net"
)

// rawDial returns dial with rawIO applied to the connections it returns.
func rawDial(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return rawIO(c), nil
	}
}
