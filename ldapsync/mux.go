package ldapsync

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// muxConn sits between the network connection and go-ldap. It frames the incoming LDAP messages
// itself and hands those of abkit's own paged searches (message IDs from muxFirstID up) to
// them as raw bytes, decoded by decodeMessage; everything else (binds, the rootDSE, modify,
// Who am I?) goes on to go-ldap unchanged. go-ldap's BER decoder re-encodes every nested
// element and costs tens of microseconds per entry; streaming search results past it is what
// keeps an export close to ldapsearch's speed.
type muxConn struct {
	raw  net.Conn
	wmu  sync.Mutex // serialises writes from go-ldap and from searches
	in   chan []byte
	rest []byte // the part of a message go-ldap has not read yet

	mu       sync.Mutex
	searches map[int64]*muxSearch
	nextID   atomic.Int64

	closeOnce sync.Once
	done      chan struct{}
	err       error // why the read loop ended; set before done is closed
}

// muxFirstID is the first message ID of abkit's own searches; go-ldap counts up from 1.
const muxFirstID = 1 << 30

// maxMessage bounds one LDAP message (an entry with a large thumbnailPhoto is a few hundred kB).
const maxMessage = 64 << 20

// muxSearch queues the messages of one search. The queue is not bounded by a channel so that
// the read loop never waits for a slow consumer (which may itself be waiting for the answer to
// a modify on the same connection); the paged results control bounds it to one page.
//
// The consumer is woken per batch, not per message: when wakeBatch messages are waiting, when
// the search's final message arrives, and wakeDelay after the read loop found the network idle
// with messages waiting. Waking a parked goroutine for every entry cost more CPU than decoding.
type muxSearch struct {
	id          int64
	mu          sync.Mutex
	queue       [][]byte
	last        []byte // the final message (SearchResultDone), once it has arrived
	unsignalled int    // messages queued since the consumer was last woken
	timerArmed  bool   // a delayed wake is pending
	notify      chan struct{}
}

const (
	wakeBatch = 64
	wakeDelay = time.Millisecond
)

// push queues msg and wakes the consumer when a batch is full or last says it is the final one.
func (s *muxSearch) push(msg []byte, last bool) {
	s.mu.Lock()
	s.queue = append(s.queue, msg)
	if last {
		s.last = msg
	}
	s.unsignalled++
	full := s.unsignalled >= wakeBatch
	s.mu.Unlock()
	if last || full {
		s.wake()
	}
}

// wake signals the consumer.
func (s *muxSearch) wake() {
	s.mu.Lock()
	s.unsignalled = 0
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// wakeSoon arranges a wake after wakeDelay when messages are waiting unsignalled.
func (s *muxSearch) wakeSoon() {
	s.mu.Lock()
	arm := s.unsignalled > 0 && !s.timerArmed
	s.timerArmed = s.timerArmed || arm
	s.mu.Unlock()
	if arm {
		time.AfterFunc(wakeDelay, func() {
			s.mu.Lock()
			s.timerArmed = false
			s.mu.Unlock()
			s.wake()
		})
	}
}

// lastMessage returns the search's final message if it has arrived, else nil.
func (s *muxSearch) lastMessage() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// pop returns the oldest queued message, if any.
func (s *muxSearch) pop() ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return nil, false
	}
	msg := s.queue[0]
	s.queue[0] = nil
	s.queue = s.queue[1:]
	return msg, true
}

func newMuxConn(raw net.Conn) *muxConn {
	m := &muxConn{raw: raw, in: make(chan []byte, 16), searches: map[int64]*muxSearch{}, done: make(chan struct{})}
	m.nextID.Store(muxFirstID)
	go m.readLoop()
	return m
}

func (m *muxConn) readLoop() {
	br := bufio.NewReaderSize(m.raw, 64<<10)
	var pending *muxSearch // the search that received the last message
	for {
		if pending != nil && br.Buffered() == 0 {
			pending.wakeSoon() // about to wait for the network
			pending = nil
		}
		msg, err := readMessage(br)
		if err != nil {
			m.err = err
			m.Close()
			return
		}
		id, err := messageID(msg)
		if err != nil {
			m.err = err
			m.Close()
			return
		}
		if id < muxFirstID {
			select {
			case m.in <- msg:
			case <-m.done:
				return
			}
			continue
		}
		m.mu.Lock()
		s := m.searches[id]
		m.mu.Unlock()
		if s == nil {
			continue // the rest of a search its reader left
		}
		if pending != nil && pending != s {
			pending.wake()
		}
		s.push(msg, isSearchDone(msg))
		pending = s
	}
}

// register starts receiving the messages of a new search and returns it.
func (m *muxConn) register() *muxSearch {
	s := &muxSearch{id: m.nextID.Add(1), notify: make(chan struct{}, 1)}
	m.mu.Lock()
	m.searches[s.id] = s
	m.mu.Unlock()
	return s
}

// unregister stops delivering the messages of s; late ones are dropped.
func (m *muxConn) unregister(s *muxSearch) {
	m.mu.Lock()
	delete(m.searches, s.id)
	m.mu.Unlock()
}

// closed returns the error that ended the connection.
func (m *muxConn) closed() error {
	if m.err != nil && !errors.Is(m.err, net.ErrClosed) {
		return fmt.Errorf("connection lost: %w", m.err)
	}
	return errors.New("connection closed")
}

// Read gives go-ldap its messages, byte for byte as they arrived.
func (m *muxConn) Read(p []byte) (int, error) {
	if len(m.rest) == 0 {
		select {
		case msg := <-m.in:
			m.rest = msg
		case <-m.done:
			select {
			case msg := <-m.in:
				m.rest = msg
			default:
				return 0, io.EOF
			}
		}
	}
	n := copy(p, m.rest)
	m.rest = m.rest[n:]
	return n, nil
}

// Write sends go-ldap's requests.
func (m *muxConn) Write(p []byte) (int, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	return m.raw.Write(p)
}

// Close closes the network connection and ends the read loop.
func (m *muxConn) Close() error {
	var err error
	m.closeOnce.Do(func() {
		err = m.raw.Close()
		close(m.done)
	})
	return err
}

// LocalAddr implements net.Conn.
func (m *muxConn) LocalAddr() net.Addr { return m.raw.LocalAddr() }

// RemoteAddr implements net.Conn.
func (m *muxConn) RemoteAddr() net.Addr { return m.raw.RemoteAddr() }

// SetDeadline implements net.Conn; go-ldap does not use deadlines, and the read loop must not
// time out while the connection idles.
func (m *muxConn) SetDeadline(time.Time) error { return nil }

// SetReadDeadline implements net.Conn (see SetDeadline).
func (m *muxConn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline implements net.Conn.
func (m *muxConn) SetWriteDeadline(t time.Time) error { return m.raw.SetWriteDeadline(t) }

// readMessage reads one BER-framed LDAP message (a SEQUENCE) whole.
func readMessage(br *bufio.Reader) ([]byte, error) {
	head, err := br.Peek(2)
	if err != nil {
		return nil, err
	}
	if head[0] != 0x30 {
		return nil, fmt.Errorf("LDAP message starts with 0x%02x, want a SEQUENCE", head[0])
	}
	n, hlen := int64(head[1]), 2
	if head[1]&0x80 != 0 {
		k := int(head[1] & 0x7f)
		if k == 0 || k > 4 {
			return nil, fmt.Errorf("LDAP message with a %d-byte length", k)
		}
		lb, err := br.Peek(2 + k)
		if err != nil {
			return nil, err
		}
		n = 0
		for _, c := range lb[2:] {
			n = n<<8 | int64(c)
		}
		hlen = 2 + k
	}
	if n > maxMessage {
		return nil, fmt.Errorf("LDAP message of %d bytes, more than the %d allowed", n, maxMessage)
	}
	msg := make([]byte, int64(hlen)+n)
	if _, err := io.ReadFull(br, msg); err != nil {
		return nil, err
	}
	return msg, nil
}
