"""Trees as bracketed sequences: reading, writing, normalising, and sources.

A tree is a `Node(label, children)` whose children are nodes or leaves
(strings). Written out it is the bracketed sequence of the Seq2Tree
papers: `(BinOp (Name x) Add (Call (Name f) (Name y)))`. As a sequence of
tokens it is split before every `)`: the tokens are `(LABEL` (open a node),
`)` (close one) and the leaves, so a decoder writes a tree one token at a
time and the vocabulary tells the three kinds apart.

Sources of (sentence, tree) pairs, named as `--set data=NAME`:

- `python_ast`: every one-line statement of this interpreter's standard
  library, paired with its syntax tree from Python's own `ast` module. Real
  code and exact trees, always offline.
- `turkish_web`: the Turkish Web Treebank (Google Research, Apache 2.0;
  the `turkish-treebanks` wheel): 4,851 sentences of web and Wikipedia text
  with Universal Dependencies trees, each written as brackets, a node per
  word labelled with its relation to its head, the word among its
  dependents in sentence order.
- `file:PATH`: Penn-Treebank-style bracketed trees (the WSJ `.mrg` files,
  for one); function tags and empty elements are stripped and part-of-speech
  tags dropped, as parsers are scored.

In every source, `words="xx"` writes each word of a tree as `XX` (Vinyals
et al. 2014 normalise the part-of-speech tags so); `words="keep"` keeps it.
"""

from __future__ import annotations

import ast
import collections
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Union

from keras_seq.data import corpora, sources
from keras_seq.errors import UserError

WORD = "XX"
WORD_MODES = ("xx", "keep")
CLOSE = ")"


class Node(NamedTuple):
    """One node of a tree: a label and its children (nodes or leaf strings)."""

    label: str
    children: tuple[Union["Node", str], ...] = ()


def to_brackets(tree: Node | str) -> str:
    """The bracketed text of `tree`: `(label child ...)`, leaves bare."""
    if isinstance(tree, str):
        return tree
    inner = " ".join(to_brackets(child) for child in tree.children)
    return f"({tree.label} {inner})" if inner else f"({tree.label})"


def bracket_tokens(text: str) -> list[str]:
    """The tokens of a bracketed text: `(LABEL`, leaves and `)`."""
    return text.replace(")", " ) ").split()


_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def read_brackets(text: str, description: str = "text") -> list[Node]:
    """Every tree of a bracketed text, in order.

    A bracket with no label around a single tree (the Penn Treebank's
    `( (S ...) )`) is taken off. Raises `UserError` with the offset of the
    first token that breaks the brackets.
    """
    matches = list(_TOKEN.finditer(text))
    trees: list[Node] = []
    stack: list[tuple[str, list]] = []
    index = 0
    while index < len(matches):
        token = matches[index].group()
        if token == "(":
            following = matches[index + 1].group() if index + 1 < len(matches) else ""
            if following in ("(", ")", ""):
                stack.append(("", []))
            else:
                stack.append((following, []))
                index += 1
        elif token == ")":
            if not stack:
                raise UserError(
                    f"{description}: a ')' closes nothing at character "
                    f"{matches[index].start()}"
                )
            label, children = stack.pop()
            node = Node(label, tuple(children))
            if not label and len(children) == 1 and isinstance(children[0], Node):
                node = children[0]
            (stack[-1][1] if stack else trees).append(node)
        else:
            if not stack:
                raise UserError(
                    f"{description}: the word {token!r} at character "
                    f"{matches[index].start()} is outside any bracket"
                )
            stack[-1][1].append(token)
        index += 1
    if stack:
        raise UserError(f"{description}: {len(stack)} bracket(s) left open at the end")
    return trees


def read_tree(text: str) -> Node | None:
    """The one tree of `text`, or None if `text` is not exactly one
    well-formed tree."""
    try:
        trees = read_brackets(text)
    except UserError:
        return None
    return trees[0] if len(trees) == 1 and isinstance(trees[0], Node) else None


def leaves(tree: Node | str) -> list[str]:
    if isinstance(tree, str):
        return [tree]
    return [leaf for child in tree.children for leaf in leaves(child)]


def labelled_spans(tree: Node) -> collections.Counter:
    """EVALB's brackets of `tree`: how often each `(label, start, end)`
    occurs, one per node, over the positions of its leaves."""
    spans: collections.Counter = collections.Counter()

    def visit(node: Node | str, start: int) -> int:
        if isinstance(node, str):
            return start + 1
        end = start
        for child in node.children:
            end = visit(child, end)
        spans[node.label, start, end] += 1
        return end

    visit(tree, 0)
    return spans


# Penn Treebank conventions: function tags and indices follow the label
# after '-' or '='; empty elements are tagged -NONE-.
_FUNCTION_TAG = re.compile(r"(?<=[^-=])[-=].*$")


def normalise_treebank(tree: Node, words: str) -> Node | None:
    """A Penn Treebank tree as parsers are scored: function tags and empty
    elements gone, part-of-speech tags dropped (a word becomes a leaf of
    its phrase), every word `XX` with `words="xx"`. None if nothing is left."""

    def visit(node: Node | str) -> Node | str | None:
        if isinstance(node, str):
            return WORD if words == "xx" else node
        if node.label == "-NONE-":
            return None
        if len(node.children) == 1 and isinstance(node.children[0], str):
            return visit(node.children[0])
        children = tuple(
            child for child in map(visit, node.children) if child is not None
        )
        if not children:
            return None
        return Node(_FUNCTION_TAG.sub("", node.label) or node.label, children)

    result = visit(tree)
    return result if isinstance(result, Node) else None


# Python's syntax trees. The context of a name (load, store or delete) is
# left out: it follows from where the name stands.
_LEFT_OUT = (ast.expr_context, ast.type_ignore)
_WORD_FIELDS = {"id", "attr", "arg", "name", "module", "asname"}


def _constant(value) -> str:
    """A constant as one leaf: numbers as written, other kinds by type."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    text = repr(value)
    if isinstance(value, (int, float)) and len(text) <= 12 and "(" not in text:
        return text
    return type(value).__name__


def python_tree(node: ast.AST, words: str) -> Node | str:
    """The syntax tree of `node` as a `Node`: a node per syntax element,
    its fields in order; names and constants are words (leaves, `XX` with
    `words="xx"`), operators and other fieldless elements bare labels."""

    def word(text: str) -> str:
        return WORD if words == "xx" else text

    children: list[Node | str] = []
    for field, value in ast.iter_fields(node):
        values = value if isinstance(value, list) else [value]
        if isinstance(node, ast.Constant):
            # A constant's value is a word even when it is None; its `kind`
            # (a u prefix) is left out.
            if field == "value":
                children.append(word(_constant(value)))
            continue
        for item in values:
            if item is None or isinstance(item, _LEFT_OUT):
                continue
            if isinstance(item, ast.AST):
                children.append(python_tree(item, words))
            elif field in _WORD_FIELDS and isinstance(item, str):
                children.append(word(item))
    label = type(node).__name__
    if not children and not node._fields:
        return label
    return Node(label, tuple(children))


# ASCII classes, as TensorFlow's regular expressions (RE2) read them.
def statement_tree(statement: ast.stmt, words: str) -> Node:
    """`python_tree` of a statement, always a node (`pass` is `(Pass)`)."""
    tree = python_tree(statement, words)
    return Node(tree) if isinstance(tree, str) else tree


_CODE_TOKEN = re.compile(r"\w+|[^\w\s]", re.ASCII)


def code_text(source: str) -> str:
    """Code with a space between every word and punctuation mark, as the
    `code` splitter of `keras_seq.data.words` splits it."""
    return " ".join(_CODE_TOKEN.findall(source))


def python_statements(paths: list[Path]) -> Iterator[tuple[str, ast.stmt]]:
    """`(source, statement)` of every one-line statement in `paths` that
    is not a block (no def, class, if or loop headers), first occurrences."""
    seen = set()
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            module = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
        lines = text.splitlines()
        for node in ast.walk(module):
            if not isinstance(node, ast.stmt) or node.lineno != node.end_lineno:
                continue
            if isinstance(getattr(node, "body", None), list):
                continue
            # Column offsets count UTF-8 bytes.
            line = lines[node.lineno - 1].encode("utf-8")
            source = line[node.col_offset : node.end_col_offset].decode("utf-8")
            if source and source not in seen:
                seen.add(source)
                yield source, node


def _python_ast(words: str) -> list[tuple[str, str]]:
    def build(folder: Path) -> None:
        paths = corpora.stdlib_paths()
        if not paths:
            raise UserError("No Python sources found in this interpreter's library")
        rows = [
            "\t".join(
                [code_text(source)]
                + [to_brackets(statement_tree(node, mode)) for mode in WORD_MODES]
            )
            for source, node in python_statements(paths)
        ]
        (folder / "pairs.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    # Each Python version has its own library, and its own syntax trees.
    version = "{}.{}".format(*sys.version_info[:2])
    folder = sources.cached_folder(f"python_ast_{version}", build)
    column = 1 + WORD_MODES.index(words)
    lines = (folder / "pairs.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines]
    return [(fields[0], fields[column]) for fields in rows]


TURKISH_VERSION = "1.0.0"


def dependency_tree(rows: list[tuple[int, str, int, str]]) -> Node:
    """A dependency tree as brackets: `rows` of `(id, word, head, relation)`
    (head 0 for the root); each word's node is labelled with its relation
    and holds its dependents' nodes and the word itself, in sentence order."""
    dependents: dict[int, list[int]] = collections.defaultdict(list)
    words = {}
    for index, word, head, relation in rows:
        dependents[head].append(index)
        words[index] = (word, relation)

    def visit(index: int, depth: int) -> Node:
        if depth > len(rows):
            raise UserError("a dependency tree has a cycle")
        word, relation = words[index]
        items = sorted([*dependents[index], index])
        children = tuple(
            word if item == index else visit(item, depth + 1) for item in items
        )
        return Node(relation, children)

    roots = dependents[0]
    if len(roots) != 1:
        raise UserError(f"a dependency tree must have one root. Received: {len(roots)}")
    return visit(roots[0], 0)


def read_conllu(text: str) -> list[list[tuple[int, str, int, str]]]:
    """The sentences of a CoNLL-U text as `(id, word, head, relation)` rows
    (multi-word and empty-node lines skipped)."""
    sentences, rows = [], []
    for line in text.splitlines() + [""]:
        if not line.strip():
            if rows:
                sentences.append(rows)
            rows = []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 8 or not fields[0].isdigit():
            continue
        rows.append((int(fields[0]), fields[1], int(fields[6]), fields[7]))
    return sentences


def _turkish_web(words: str) -> list[tuple[str, str]]:
    folder = sources.fetch_and_extract(
        "turkish_treebanks",
        lambda target: sources.pip_download(
            "turkish-treebanks", TURKISH_VERSION, target
        ),
        sources.extract_zip,
        lambda name: name.endswith(".conllu"),
    )
    pairs = []
    for path in sorted(folder.rglob("*.conllu")):
        for rows in read_conllu(path.read_text(encoding="utf-8")):
            # Tokens with brackets in them would break the bracketed form.
            rows = [(i, _escape(word), head, rel) for i, word, head, rel in rows]
            tree = dependency_tree(rows)
            if words == "xx":
                tree = _all_words_to_xx(tree)
            pairs.append((" ".join(row[1] for row in rows), to_brackets(tree)))
    return pairs


def _escape(word: str) -> str:
    return word.replace("(", "-LRB-").replace(")", "-RRB-")


def _all_words_to_xx(tree: Node) -> Node:
    return Node(
        tree.label,
        tuple(
            WORD if isinstance(child, str) else _all_words_to_xx(child)
            for child in tree.children
        ),
    )


def _treebank_file(path_text: str, words: str) -> list[tuple[str, str]]:
    path = Path(path_text).expanduser()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
    if not path.exists():
        raise UserError(f"file:{path_text}: no such file or folder")
    if path.is_file():
        files = [path]
    pairs = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise UserError(
                f"file:{file}: not UTF-8 text (byte {error.start}); give "
                "bracketed trees, for example (S (NP I) (VP saw (NP it)))"
            ) from None
        for tree in read_brackets(text, f"file:{file}"):
            if isinstance(tree, str):
                continue
            kept = normalise_treebank(tree, "keep")
            if kept is None:
                continue
            shown = normalise_treebank(tree, words) if words == "xx" else kept
            pairs.append((" ".join(leaves(kept)), to_brackets(shown)))
    if not pairs:
        raise UserError(
            f"file:{path_text}: holds no bracketed trees, for example "
            "(S (NP I) (VP saw (NP it)))"
        )
    return pairs


TREEBANKS = {
    "python_ast": "one-line statements of Python's standard library, `ast` trees",
    "turkish_web": "the Turkish Web Treebank's dependency trees (turkish-treebanks)",
}


def treebank_names() -> list[str]:
    return [*TREEBANKS, "file:PATH"]


def load_treebank(name: str, words: str) -> list[tuple[str, str]]:
    """`(sentence, tree)` pairs of the source `name`: the sentence's tokens
    joined by spaces, the tree bracketed."""
    if words not in WORD_MODES:
        raise UserError(f"`words` must be one of {WORD_MODES}. Received: {words!r}")
    if name == "python_ast":
        return _python_ast(words)
    if name == "turkish_web":
        return _turkish_web(words)
    if name.startswith("file:"):
        return _treebank_file(name[len("file:") :], words)
    raise UserError(
        f"Unknown data source {name!r}. Allowed: {', '.join(treebank_names())}"
    )
