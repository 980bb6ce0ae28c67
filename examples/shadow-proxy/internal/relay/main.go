// Command relay is a bare TCP relay: it copies bytes both ways between each
// client and one upstream address, and nothing else. scripts/bench-proxy.sh
// uses it as the floor of any user-space proxy on the machine.
//
//	go run ./shadow-proxy/internal/relay -listen 127.0.0.1:9031 -upstream 127.0.0.1:3306
package main

import (
	"flag"
	"io"
	"log"
	"net"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:9031", "address to listen on")
	upstream := flag.String("upstream", "127.0.0.1:3306", "address to relay to")
	flag.Parse()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := l.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			u, err := net.Dial("tcp", *upstream)
			if err != nil {
				log.Print(err)
				return
			}
			defer u.Close()
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(u, c)
				_ = u.(*net.TCPConn).CloseWrite()
				close(done)
			}()
			_, _ = io.Copy(c, u)
			_ = c.(*net.TCPConn).CloseWrite()
			<-done
		}()
	}
}
