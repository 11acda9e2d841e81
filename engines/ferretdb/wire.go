package main

// The few parts of the MongoDB wire protocol the front door reads: message framing and
// OP_MSG sections. Everything else passes through as bytes.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/bson"
)

const (
	opMsg          = 2013
	flagChecksum   = 1 << 0
	flagMoreToCome = 1 << 1
	maxMessageSize = 48 << 20
)

// message is one wire message: its 16-byte header fields and its body.
type message struct {
	length, requestID, responseTo, opCode int32
	body                                  []byte
}

func readMessage(r io.Reader) (*message, error) {
	var header [16]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	m := &message{
		length:     int32(binary.LittleEndian.Uint32(header[0:])),
		requestID:  int32(binary.LittleEndian.Uint32(header[4:])),
		responseTo: int32(binary.LittleEndian.Uint32(header[8:])),
		opCode:     int32(binary.LittleEndian.Uint32(header[12:])),
	}
	if m.length < 16 || m.length > maxMessageSize {
		return nil, fmt.Errorf("bad message length %d", m.length)
	}
	m.body = make([]byte, m.length-16)
	if _, err := io.ReadFull(r, m.body); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *message) write(w io.Writer) error {
	out := make([]byte, 16+len(m.body))
	binary.LittleEndian.PutUint32(out[0:], uint32(16+len(m.body)))
	binary.LittleEndian.PutUint32(out[4:], uint32(m.requestID))
	binary.LittleEndian.PutUint32(out[8:], uint32(m.responseTo))
	binary.LittleEndian.PutUint32(out[12:], uint32(m.opCode))
	copy(out[16:], m.body)
	_, err := w.Write(out)
	return err
}

// flags of an OP_MSG (zero for other op codes).
func (m *message) flags() uint32 {
	if m.opCode != opMsg || len(m.body) < 4 {
		return 0
	}
	return binary.LittleEndian.Uint32(m.body)
}

// opMsg is a parsed OP_MSG: the command document (kind 0) and document sequences (kind 1).
type opMsgBody struct {
	flags     uint32
	command   bson.Raw
	sequences []sequence
}

type sequence struct {
	identifier string
	docs       []bson.Raw
}

var errNotParsed = errors.New("not an OP_MSG the front door reads")

func parseOpMsg(m *message) (*opMsgBody, error) {
	if m.opCode != opMsg || len(m.body) < 5 {
		return nil, errNotParsed
	}
	b := &opMsgBody{flags: binary.LittleEndian.Uint32(m.body)}
	if b.flags&flagChecksum != 0 {
		return nil, errNotParsed
	}
	rest := m.body[4:]
	for len(rest) > 0 {
		kind := rest[0]
		rest = rest[1:]
		switch kind {
		case 0:
			doc, tail, ok := bsoncore(rest)
			if !ok {
				return nil, errNotParsed
			}
			b.command, rest = doc, tail
		case 1:
			if len(rest) < 4 {
				return nil, errNotParsed
			}
			size := int(binary.LittleEndian.Uint32(rest))
			if size < 5 || size > len(rest) {
				return nil, errNotParsed
			}
			section := rest[4:size]
			rest = rest[size:]
			end := 0
			for end < len(section) && section[end] != 0 {
				end++
			}
			if end == len(section) {
				return nil, errNotParsed
			}
			seq := sequence{identifier: string(section[:end])}
			docs := section[end+1:]
			for len(docs) > 0 {
				doc, tail, ok := bsoncore(docs)
				if !ok {
					return nil, errNotParsed
				}
				seq.docs, docs = append(seq.docs, doc), tail
			}
			b.sequences = append(b.sequences, seq)
		default:
			return nil, errNotParsed
		}
	}
	if b.command == nil {
		return nil, errNotParsed
	}
	return b, nil
}

// bsoncore splits one length-prefixed BSON document off the front of b.
func bsoncore(b []byte) (bson.Raw, []byte, bool) {
	if len(b) < 5 {
		return nil, nil, false
	}
	size := int(binary.LittleEndian.Uint32(b))
	if size < 5 || size > len(b) {
		return nil, nil, false
	}
	return bson.Raw(b[:size]), b[size:], true
}

func (b *opMsgBody) encode() []byte {
	out := binary.LittleEndian.AppendUint32(nil, b.flags)
	out = append(out, 0)
	out = append(out, b.command...)
	for _, seq := range b.sequences {
		size := 4 + len(seq.identifier) + 1
		for _, doc := range seq.docs {
			size += len(doc)
		}
		out = append(out, 1)
		out = binary.LittleEndian.AppendUint32(out, uint32(size))
		out = append(out, seq.identifier...)
		out = append(out, 0)
		for _, doc := range seq.docs {
			out = append(out, doc...)
		}
	}
	return out
}

// commandName is the first key of the command document.
func (b *opMsgBody) commandName() string {
	elements, err := b.command.Elements()
	if err != nil || len(elements) == 0 {
		return ""
	}
	return elements[0].Key()
}
