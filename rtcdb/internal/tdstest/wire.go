package tdstest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
)

// reader decodes little-endian TDS fields; the first out-of-bounds read sets err and every later
// read returns zeros.
type reader struct {
	b   []byte
	pos int
	err error
}

func (r *reader) next(n int) []byte {
	if r.err == nil && (n < 0 || n > len(r.b)-r.pos) {
		r.err = fmt.Errorf("truncated at offset %d (want %d bytes of %d)", r.pos, n, len(r.b))
	}
	if r.err != nil {
		var zero [16]byte // enough for any fixed-size field; never sized by the input
		return zero[:min(max(n, 0), len(zero))]
	}
	v := r.b[r.pos : r.pos+n]
	r.pos += n
	return v
}

func (r *reader) u8() byte    { return r.next(1)[0] }
func (r *reader) u16() uint16 { return binary.LittleEndian.Uint16(r.next(2)) }
func (r *reader) u32() uint32 { return binary.LittleEndian.Uint32(r.next(4)) }
func (r *reader) u64() uint64 { return binary.LittleEndian.Uint64(r.next(8)) }
func (r *reader) done() bool  { return r.err != nil || r.pos >= len(r.b) }
func (r *reader) ucs2(n int) string {
	return fromUCS2(r.next(2 * n))
}

func fromUCS2(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func toUCS2(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, v := range u {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

// parseLogin7 returns the user name and database of a LOGIN7 message.
func parseLogin7(msg []byte) (user, database string, err error) {
	field := func(off int) string {
		if off+4 > len(msg) {
			err = errors.New("truncated")
			return ""
		}
		o, n := int(binary.LittleEndian.Uint16(msg[off:])), int(binary.LittleEndian.Uint16(msg[off+2:]))
		if o+2*n > len(msg) {
			err = fmt.Errorf("field at %d out of bounds", off)
			return ""
		}
		return fromUCS2(msg[o : o+2*n])
	}
	user, database = field(40), field(68)
	return user, database, err
}

// parseRequest decodes a batch, RPC or transaction manager message.
func parseRequest(typ byte, msg []byte) (*Request, error) {
	r := &reader{b: msg}
	req := &Request{}
	// ALL_HEADERS: total length, then headers of (length, type, data).
	total := int(r.u32())
	end := total
	for r.err == nil && r.pos < end {
		start := r.pos
		n, htype := int(r.u32()), r.u16()
		data := r.next(n - 6)
		if htype == 2 && len(data) >= 8 {
			req.TranID = binary.LittleEndian.Uint64(data)
		}
		if r.pos != start+n {
			return nil, errors.New("ALL_HEADERS: bad header length")
		}
	}
	switch typ {
	case pktBatch:
		req.Kind = Batch
		req.SQL = fromUCS2(r.next(len(msg) - r.pos))
	case pktTransMgr:
		switch rt := r.u16(); rt {
		case 5:
			req.Kind = Begin
		case 7:
			req.Kind = Commit
		case 8:
			req.Kind = Rollback
		default:
			return nil, fmt.Errorf("transaction manager request %d not supported", rt)
		}
	case pktRPC:
		req.Kind = RPC
		if err := parseRPC(r, req); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("packet type 0x%02x not supported", typ)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%s request: %w", req.Kind, r.err)
	}
	return req, nil
}

func parseRPC(r *reader, req *Request) error {
	if n := r.u16(); n == 0xFFFF {
		if id := r.u16(); id != 10 {
			return fmt.Errorf("RPC: procedure id %d, only sp_executesql (10) is supported", id)
		}
	} else {
		req.Proc = r.ucs2(int(n))
	}
	r.u16() // option flags
	var params []Param
	for !r.done() {
		p := Param{Name: r.ucs2(int(r.u8()))}
		r.u8() // status flags
		if err := readParam(r, &p); err != nil {
			return fmt.Errorf("RPC parameter %d %s: %w", len(params), p.Name, err)
		}
		params = append(params, p)
	}
	if req.Proc == "" {
		if len(params) < 2 || params[0].Type != "nvarchar" || params[1].Type != "nvarchar" {
			return errors.New("sp_executesql without statement and declaration")
		}
		req.SQL, _ = params[0].Value.(string)
		req.Decl, _ = params[1].Value.(string)
		params = params[2:]
	}
	req.Params = params
	return nil
}

// readParam decodes TYPE_INFO and the value of an RPC parameter.
func readParam(r *reader, p *Param) error {
	typ := r.u8()
	switch typ {
	case 0x1F: // NULL
		p.Type = "null"
	case 0x30, 0x34, 0x38, 0x7F: // fixed-length integers
		size := map[byte]int{0x30: 1, 0x34: 2, 0x38: 4, 0x7F: 8}[typ]
		p.Type, p.Value = intName(size), leInt(r.next(size))
	case 0x26, 0x68: // INTN, BITN
		r.u8() // max length
		n := int(r.u8())
		v := r.next(n)
		switch {
		case typ == 0x68:
			p.Type = "bit"
			if n > 0 {
				p.Value = v[0] != 0
			}
		default:
			p.Type = intName(n)
			if n > 0 {
				p.Value = leInt(v)
			}
		}
	case 0x24: // GUIDN
		r.u8()
		p.Type = "uniqueidentifier"
		if n := int(r.u8()); n == 16 {
			var g [16]byte
			copy(g[:], r.next(16))
			p.Value = g
		} else if n != 0 {
			return fmt.Errorf("uniqueidentifier of %d bytes", n)
		}
	case 0xE7, 0xA7, 0xA5: // NVARCHAR, BIGVARCHAR, BIGVARBINARY
		maxLen := r.u16()
		if typ != 0xA5 {
			r.next(5) // collation
		}
		var data []byte
		null := false
		if maxLen == 0xFFFF {
			data, null = readPLP(r)
		} else if n := r.u16(); n == 0xFFFF {
			null = true
		} else {
			data = r.next(int(n))
		}
		switch typ {
		case 0xE7:
			p.Type = "nvarchar"
			if !null {
				p.Value = fromUCS2(data)
			}
		case 0xA7:
			p.Type = "varchar"
			if !null {
				p.Value = string(data)
			}
		default:
			p.Type = "varbinary"
			if !null {
				p.Value = append([]byte{}, data...)
			}
		}
	default:
		return fmt.Errorf("TDS type 0x%02x not supported by the responder", typ)
	}
	return r.err
}

// readPLP reads a partially length-prefixed value; chunks are bounded by the message.
func readPLP(r *reader) ([]byte, bool) {
	if r.u64() == 0xFFFFFFFFFFFFFFFF {
		return nil, true
	}
	data := []byte{}
	for r.err == nil {
		n := r.u32()
		if n == 0 {
			break
		}
		data = append(data, r.next(int(n))...)
	}
	return data, false
}

func intName(size int) string {
	return map[int]string{1: "tinyint", 2: "smallint", 4: "int", 8: "bigint"}[size]
}

func leInt(b []byte) int64 {
	switch len(b) {
	case 1:
		return int64(b[0])
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(b)))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(b)))
	case 8:
		return int64(binary.LittleEndian.Uint64(b))
	}
	return 0
}

// DONE status bits and current-command values.
const (
	doneMore     = 0x01
	doneError    = 0x02
	doneCount    = 0x10
	doneAttn     = 0x20
	curCmdSelect = 0xC1
	curCmdDML    = 0xC5
)

// tokens builds a reply token stream.
type tokens struct{ b []byte }

func (w *tokens) u8(v byte)    { w.b = append(w.b, v) }
func (w *tokens) u16(v uint16) { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *tokens) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *tokens) u64(v uint64) { w.b = binary.LittleEndian.AppendUint64(w.b, v) }

// bvar appends a B_VARCHAR; usvar a US_VARCHAR.
func (w *tokens) bvar(s string) {
	u := toUCS2(s)
	w.u8(byte(len(u) / 2))
	w.b = append(w.b, u...)
}
func (w *tokens) usvar(s string) {
	u := toUCS2(s)
	w.u16(uint16(len(u) / 2))
	w.b = append(w.b, u...)
}

func ucs2Bvar(s string) []byte {
	var w tokens
	w.bvar(s)
	return w.b
}

func (w *tokens) loginAck() {
	var body tokens
	body.u8(1)                             // interface: SQL
	body.b = append(body.b, 0x74, 0, 0, 4) // TDS 7.4
	body.bvar("Microsoft SQL Server")
	body.b = append(body.b, 9, 0, 0x0F, 0xA3) // 9.0.4003
	w.u8(0xAD)
	w.u16(uint16(len(body.b)))
	w.b = append(w.b, body.b...)
}

// envChange appends an ENVCHANGE token with already-encoded new and old values.
func (w *tokens) envChange(typ byte, newVal, oldVal []byte) {
	w.u8(0xE3)
	w.u16(uint16(1 + len(newVal) + len(oldVal)))
	w.u8(typ)
	w.b = append(w.b, newVal...)
	w.b = append(w.b, oldVal...)
}

func (w *tokens) done(status, curCmd uint16, count uint64) {
	w.u8(0xFD)
	w.u16(status)
	w.u16(curCmd)
	w.u64(count)
}

func (w *tokens) error(e *SQLError) {
	class := e.Class
	if class == 0 {
		class = 16
	}
	var body tokens
	body.u32(uint32(e.Number))
	body.u8(1) // state
	body.u8(class)
	body.usvar(e.Message)
	body.bvar("tdstest")
	body.bvar("")
	body.u32(1) // line
	w.u8(0xAA)
	w.u16(uint16(len(body.b)))
	w.b = append(w.b, body.b...)
}

func (w *tokens) colMetadata(cols []Column) {
	w.u8(0x81)
	w.u16(uint16(len(cols)))
	for _, c := range cols {
		w.u32(0)      // user type
		w.u16(0x0001) // nullable
		switch c.Type {
		case Int:
			w.b = append(w.b, 0x26, 4)
		case BigInt:
			w.b = append(w.b, 0x26, 8)
		case NVarChar:
			w.b = append(w.b, 0xE7, 0x40, 0x1F, 0x09, 0x04, 0xD0, 0x00, 0x34) // nvarchar(4000), Latin1_General_CI_AS
		case GUID:
			w.b = append(w.b, 0x24, 16)
		case Image:
			w.u8(0x22)
			w.u32(0x7FFFFFFF)
			w.u8(0) // no table name parts
		case VarBinaryMax:
			w.b = append(w.b, 0xA5, 0xFF, 0xFF)
		}
		w.bvar(c.Name)
	}
}

func (w *tokens) row(cols []Column, vals []any) {
	w.u8(0xD1)
	for i, c := range cols {
		var v any
		if i < len(vals) {
			v = vals[i]
		}
		switch c.Type {
		case Int, BigInt:
			size := 4
			if c.Type == BigInt {
				size = 8
			}
			n, ok := toInt(v)
			if !ok {
				w.u8(0)
				continue
			}
			w.u8(byte(size))
			w.b = append(w.b, le64(uint64(n))[:size]...)
		case NVarChar:
			s, ok := v.(string)
			if !ok {
				w.u16(0xFFFF)
				continue
			}
			u := toUCS2(s)
			w.u16(uint16(len(u)))
			w.b = append(w.b, u...)
		case GUID:
			g, ok := v.([16]byte)
			if !ok {
				w.u8(0)
				continue
			}
			w.u8(16)
			w.b = append(w.b, g[:]...)
		case Image:
			b, ok := v.([]byte)
			if !ok || b == nil {
				w.u8(0)
				continue
			}
			w.u8(16)
			w.b = append(w.b, make([]byte, 16+8)...) // text pointer, timestamp
			w.u32(uint32(len(b)))
			w.b = append(w.b, b...)
		case VarBinaryMax:
			b, ok := v.([]byte)
			if !ok || b == nil {
				w.u64(0xFFFFFFFFFFFFFFFF)
				continue
			}
			w.u64(uint64(len(b)))
			if len(b) > 0 {
				w.u32(uint32(len(b)))
				w.b = append(w.b, b...)
			}
			w.u32(0)
		}
	}
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint32:
		return int64(n), true
	}
	return 0, false
}
