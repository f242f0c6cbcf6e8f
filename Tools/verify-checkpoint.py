#!/usr/bin/env python3
"""An independent verifier of Accord's checkpoints, cosignatures and inclusion proofs.

Written from Journal/Trust.md ("Checkpoints and proofs") and the C2SP specifications it cites
(signed-note, tlog-checkpoint, tlog-cosignature, tlog-proof) and RFC 6962, with no Accord code:
only hashlib, base64 and the 'cryptography' package (pip install cryptography).

    verify-checkpoint.py FILE --key VKEY [--key VKEY ...] [--min-cosignatures N]

FILE is a signed checkpoint note or a tlog-proof receipt ('accord prove EVENT_ID'). Each VKEY is
a verifier key '<name>+<8 hex key id>+<base64(type || 32-byte Ed25519 key)>': type 0x01 for the
feed's key (its name is the checkpoint's origin), 0x04 for a witness's cosignature key.
Exit 0 when everything verifies, 1 otherwise (with the reason on standard error).
"""
import base64
import hashlib
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014".encode()
MAX_NOTE_BYTES = 65536
MAX_PROOF_HASHES = 63


class Failure(Exception):
    pass


def b64(text):
    data = base64.b64decode(text, validate=True)
    if base64.b64encode(data) != (text if isinstance(text, bytes) else text.encode()):
        raise Failure("non-canonical base64")
    return data


def parse_vkey(text):
    name, key_id_hex, key_b64 = text.strip().split("+", 2)
    blob = base64.b64decode(key_b64, validate=True)
    if len(blob) != 33 or blob[0] not in (0x01, 0x04):
        raise Failure(f"verifier key {name!r}: not a type 0x01 or 0x04 Ed25519 key")
    key_id = hashlib.sha256(name.encode() + b"\n" + blob).digest()[:4]
    if key_id.hex() != key_id_hex:
        raise Failure(f"verifier key {name!r}: key id {key_id_hex} does not match")
    return {"name": name.encode(), "type": blob[0], "id": key_id, "key": Ed25519PublicKey.from_public_bytes(blob[1:])}


def split_note(data):
    if len(data) > MAX_NOTE_BYTES:
        raise Failure("note too large")
    data.decode("utf-8")
    cut = data.rfind(b"\n\n")
    if cut <= 0:
        raise Failure("no blank line between text and signatures")
    text, rest = data[: cut + 1], data[cut + 2 :]
    if not rest.endswith(b"\n"):
        raise Failure("last signature line does not end with a newline")
    signatures = []
    for line in rest[:-1].split(b"\n"):
        parts = line.split(b" ")
        if len(parts) != 3 or parts[0] != EM_DASH:
            raise Failure("malformed signature line")
        signatures.append((parts[1], b64(parts[2])))
    return text, signatures


def parse_checkpoint(text):
    lines = text[:-1].split(b"\n")
    if len(lines) != 3:
        raise Failure("a checkpoint has exactly three lines (origin, size, root)")
    origin, size, root = lines
    if not size.isdigit() or (len(size) > 1 and size[0:1] == b"0"):
        raise Failure("size is not decimal")
    root = b64(root)
    if len(root) != 32:
        raise Failure("root is not 32 bytes")
    return origin, int(size), root


def check_note(data, keys, min_cosignatures):
    text, signatures = split_note(data)
    origin, size, root = parse_checkpoint(text)
    signed, cosigned = [], []
    for name, blob in signatures:
        for key in keys:
            if key["name"] != name or key["id"] != blob[:4]:
                continue
            try:
                if key["type"] == 0x01:
                    if len(blob) != 68:
                        raise InvalidSignature()
                    key["key"].verify(blob[4:], text)
                    signed.append(name)
                else:
                    if len(blob) != 76:
                        raise InvalidSignature()
                    timestamp = int.from_bytes(blob[4:12], "big")
                    message = b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + text
                    key["key"].verify(blob[12:], message)
                    cosigned.append((name, timestamp))
            except InvalidSignature:
                raise Failure(f"the signature of {name.decode()!r} does not verify")
    if origin not in signed:
        raise Failure(f"no valid signature of the log key {origin.decode()!r}")
    if len(cosigned) < min_cosignatures:
        raise Failure(f"{len(cosigned)} valid cosignatures, {min_cosignatures} required")
    return origin, size, root, signed, cosigned


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, path, root):
    # RFC 9162, section 2.1.3.2.
    if index >= size:
        return False
    fn, sn, r = index, size - 1, hashlib.sha256(b"\x00" + leaf).digest()
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def main(argv):
    args, keys, minimum = [], [], 0
    i = 0
    while i < len(argv):
        if argv[i] == "--key":
            keys.append(parse_vkey(argv[i + 1]))
            i += 2
        elif argv[i] == "--min-cosignatures":
            minimum = int(argv[i + 1])
            i += 2
        else:
            args.append(argv[i])
            i += 1
    if len(args) != 1 or not keys:
        print(__doc__, file=sys.stderr)
        return 2
    data = open(args[0], "rb").read()
    try:
        if data.startswith(b"c2sp.org/tlog-proof@v1\n"):
            head, note = data.split(b"\n\n", 1)
            lines = head.split(b"\n")[1:]
            leaf = None
            if lines and lines[0].startswith(b"extra "):
                leaf = b64(lines.pop(0)[6:])
            if not lines or not lines[0].startswith(b"index "):
                raise Failure("no 'index' line")
            index = int(lines.pop(0)[6:])
            if len(lines) > MAX_PROOF_HASHES:
                raise Failure("too many proof hashes")
            path = [b64(line) for line in lines]
            origin, size, root, signed, cosigned = check_note(note, keys, minimum)
            if leaf is None or not verify_inclusion(leaf, index, size, path, root):
                raise Failure(f"the inclusion proof of leaf {index} does not lead to the root")
            print(f"inclusion: leaf {index} ({leaf.hex()}) of {size} verifies")
        else:
            origin, size, root, signed, cosigned = check_note(data, keys, minimum)
        print(f"checkpoint {origin.decode()} size {size} root {base64.b64encode(root).decode()}")
        for name, timestamp in cosigned:
            print(f"cosigned by {name.decode()} at {timestamp}")
        print("OK")
        return 0
    except (Failure, ValueError, UnicodeDecodeError) as error:
        print(f"verify-checkpoint: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
