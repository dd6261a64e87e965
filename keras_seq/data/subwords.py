"""Subword units: pieces learnt by byte-pair merges, words split into them
by greedy longest match, in TensorFlow ops.

The vocabulary is learnt as Sennrich et al. (2016) learn byte-pair
encodings: start from the characters of the training words and merge the
most frequent adjacent pair, again and again, until the vocabulary has the
size asked for. A word's first piece is written as it is and every later
piece carries the `##` mark (the WordPiece convention of Wu et al. 2016),
so pieces join back into words without spaces. Words are split by taking,
from the left, the longest piece the vocabulary knows; a word with a
character the vocabulary lacks becomes one unknown piece.

The splitting runs in TensorFlow ops, so the tf.data pipeline and an
exported SavedModel split text alike, with no custom ops.

Reference:
- [Sennrich et al., 2016](https://arxiv.org/abs/1508.07909)
"""

from __future__ import annotations

import collections
import heapq

import tensorflow as tf

from keras_seq.data.vocabulary import FIRST_SYMBOL_ID, OOV_ID, Vocabulary

CONTINUATION = "##"
# Pieces are at most this many characters (the mark not counted), which
# bounds the candidates the splitter looks up at every position.
MAX_PIECE_CHARACTERS = 16


def _characters(word: str) -> list[str]:
    return [word[0], *(CONTINUATION + character for character in word[1:])]


def _merged(first: str, second: str) -> str:
    return first + second[len(CONTINUATION) :]


def _piece_length(piece: str) -> int:
    return len(piece) - (len(CONTINUATION) if piece.startswith(CONTINUATION) else 0)


def learn_pieces(word_counts: dict[str, int], size: int) -> list[str]:
    """Up to `size` pieces: the characters of `word_counts`' words (by
    frequency), then byte-pair merges, most frequent first.

    Args:
        word_counts: how often each word occurs in the training text.
        size: the number of pieces wanted, characters included.

    Returns:
        The pieces, most frequent characters first, then the merges in the
        order they were learnt (ties go to the alphabetically first pair).
    """
    words = [_characters(word) for word in word_counts if word]
    counts = [count for word, count in word_counts.items() if word]
    alphabet: collections.Counter = collections.Counter()
    pairs: collections.Counter = collections.Counter()
    where: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for index, (symbols, count) in enumerate(zip(words, counts)):
        for symbol in symbols:
            alphabet[symbol] += count
        for pair in zip(symbols, symbols[1:]):
            pairs[pair] += count
            where[pair].add(index)
    # A heap of (-count, pair) with stale entries skipped when popped: a
    # pair's count changes only for the words a merge touches.
    heap = [(-count, pair) for pair, count in pairs.items()]
    heapq.heapify(heap)
    pieces = [symbol for symbol, _ in sorted(alphabet.items(), key=_by_count)]
    known = set(pieces)
    while len(pieces) < size and heap:
        negative_count, pair = heapq.heappop(heap)
        if -negative_count != pairs.get(pair, 0):
            continue
        if -negative_count < 2:
            break
        merged = _merged(*pair)
        if _piece_length(merged) > MAX_PIECE_CHARACTERS:
            continue
        changed = set()
        for index in where.pop(pair):
            symbols = words[index]
            for old in zip(symbols, symbols[1:]):
                pairs[old] -= counts[index]
                changed.add(old)
            words[index] = symbols = _merge_pair(symbols, *pair, merged)
            for new in zip(symbols, symbols[1:]):
                pairs[new] += counts[index]
                where[new].add(index)
                changed.add(new)
        for changed_pair in changed:
            if pairs[changed_pair] > 0:
                heapq.heappush(heap, (-pairs[changed_pair], changed_pair))
            else:
                del pairs[changed_pair]
        if merged not in known:
            known.add(merged)
            pieces.append(merged)
    return pieces[:size]


def _by_count(item):
    return (-item[1], item[0])


def _merge_pair(symbols: list[str], first: str, second: str, merged: str) -> list[str]:
    result = []
    index = 0
    while index < len(symbols):
        if (
            index + 1 < len(symbols)
            and symbols[index] == first
            and symbols[index + 1] == second
        ):
            result.append(merged)
            index += 2
        else:
            result.append(symbols[index])
            index += 1
    return result


def subword_vocabulary(
    word_counts: dict[str, int], size: int, reserved: list[str]
) -> Vocabulary:
    """`reserved` symbols, then pieces learnt from `word_counts`: `size` ids
    in all, padding and OOV included."""
    room = max(0, size - FIRST_SYMBOL_ID - len(reserved))
    pieces = [
        piece for piece in learn_pieces(word_counts, room) if piece not in reserved
    ]
    return Vocabulary([*reserved, *pieces])


def split_words(
    words: tf.Tensor, table: tf.lookup.StaticHashTable
) -> tuple[tf.RaggedTensor, tf.RaggedTensor]:
    """Every word of `words` (1-D strings) split into pieces of `table`.

    Returns:
        Ids `[N, (pieces)]` (int64, as the table's values) and the pieces as
        strings; a word that cannot be split is one OOV id, shown as itself.
    """
    characters = tf.strings.unicode_split(words, "UTF-8")
    lengths = characters.row_lengths()
    dense = characters.to_tensor("")
    width = tf.shape(dense)[1]
    # candidates[n, i, k]: the k + 1 characters of word n from position i.
    candidates = [dense]
    for extra in range(1, MAX_PIECE_CHARACTERS):
        shifted = tf.pad(dense[:, extra:], [[0, 0], [0, tf.minimum(extra, width)]])
        candidates.append(candidates[-1] + shifted)
    candidates = tf.stack(candidates, axis=-1)
    positions = tf.range(tf.cast(width, tf.int64))
    marks = tf.where(positions > 0, CONTINUATION, "")[None, :, None]
    candidates = marks + candidates
    ids = table.lookup(candidates)
    ends = positions[None, :, None] + tf.range(
        1, MAX_PIECE_CHARACTERS + 1, dtype=tf.int64
    )
    known = (ids != OOV_ID) & (ends <= lengths[:, None, None])

    count = tf.shape(words)[0]
    rows = tf.range(count)

    last_position = tf.cast(width, tf.int64) - 1
    piece_lengths = tf.range(MAX_PIECE_CHARACTERS)

    def step(position, failed, taken, pieces, strings, index):
        at = tf.stack([rows, tf.cast(tf.minimum(position, last_position), tf.int32)], 1)
        # The longest known piece from `position` (-1: none is known).
        longest = tf.reduce_max(
            tf.where(tf.gather_nd(known, at), piece_lengths, -1), axis=1
        )
        active = position < lengths
        take = active & (longest >= 0)
        chosen = tf.concat([at, tf.maximum(longest, 0)[:, None]], 1)
        pieces = pieces.write(index, tf.gather_nd(ids, chosen))
        strings = strings.write(index, tf.gather_nd(candidates, chosen))
        taken = taken.write(index, take)
        failed = failed | (active & (longest < 0))
        position = tf.where(take, position + tf.cast(longest, tf.int64) + 1, lengths)
        return position, failed, taken, pieces, strings, index + 1

    def remaining(position, *_):
        return tf.reduce_any(position < lengths)

    _, failed, taken, pieces, strings, _ = tf.while_loop(
        remaining,
        step,
        (
            tf.zeros([count], tf.int64),
            tf.zeros([count], tf.bool),
            tf.TensorArray(tf.bool, size=0, dynamic_size=True),
            tf.TensorArray(tf.int64, size=0, dynamic_size=True),
            tf.TensorArray(tf.string, size=0, dynamic_size=True),
            0,
        ),
    )
    # A word that cannot be split is one unknown piece: its first column
    # holds the OOV id and the word, and only that column is kept.
    taken = _columns(taken, count, tf.bool, False)
    first = tf.one_hot(0, tf.shape(taken)[1], on_value=True, off_value=False)
    taken = tf.where(failed[:, None], first[None, :], taken)
    pieces = _columns(pieces, count, tf.int64, 0)
    pieces = tf.where(failed[:, None] & first, tf.constant(OOV_ID, tf.int64), pieces)
    strings = _columns(strings, count, tf.string, "")
    strings = tf.where(failed[:, None] & first, words[:, None], strings)
    return (
        tf.ragged.boolean_mask(pieces, taken),
        tf.ragged.boolean_mask(strings, taken),
    )


def _columns(array: tf.TensorArray, count, dtype, fill) -> tf.Tensor:
    """The array's writes as columns `[N, max(T, 1)]`."""
    rows = tf.cond(
        array.size() > 0,
        array.stack,
        lambda: tf.fill([1, count], tf.constant(fill, dtype)),
    )
    return tf.transpose(tf.reshape(rows, [-1, count]))


def join_pieces(texts: tf.Tensor) -> tf.Tensor:
    """Texts of space-separated pieces with the pieces of each word joined."""
    return tf.strings.regex_replace(texts, " " + CONTINUATION, "")
