# Adapted from pytorch/tutorials, beginner_source/text_sentiment_ngrams_tutorial.py ("Text
# Classification Tutorial", the torchtext.datasets.text_classification version, whose
# EmbeddingBag has sparse gradients).
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; AG_NEWS (a
# download, through torchtext) replaced by 480 generated four-topic "news" lines (400 to train,
# 80 to test), with torchtext's basic_english tokenizer, ngrams_iterator and vocabulary written
# here in a few lines; 3 epochs instead of 5; a seed for the split and the shuffles; test()'s
# `loss += loss.item()` (which doubles the last batch's loss) kept as written; the stray
# backticks around the last lines left out; the golf news to classify shortened to the made-up
# vocabulary; assertions at the end.
import random
import re

import autodiff as torch

NGRAMS = 2

TOPICS = {
    1: "war minister election president government troops treaty embassy parliament crisis",
    2: "match goal season coach players tournament championship score golf round",
    3: "market shares profit company stocks investors bank earnings deal prices",
    4: "software internet computer researchers space launch science data chip network",
}
COMMON = "the a of to in on and for with said new after over as at by".split()


def basic_english(line):
    """torchtext's get_tokenizer("basic_english"): lower case, punctuation split off."""
    line = line.lower()
    for pattern, replacement in ((r"\'", " '  "), (r"\"", ""), (r"\.", " . "), (r",", " , "),
                                 (r"\(", " ( "), (r"\)", " ) "), (r"\!", " ! "),
                                 (r"\?", " ? "), (r"\;", " "), (r"\:", " "), (r"\s+", " ")):
        line = re.sub(pattern, replacement, line)
    return line.split()


def ngrams_iterator(token_list, ngrams):
    """torchtext.data.utils.ngrams_iterator: the tokens, then every n-gram up to `ngrams`."""
    for token in token_list:
        yield token
    for n in range(2, ngrams + 1):
        for i in range(len(token_list) - n + 1):
            yield " ".join(token_list[i:i + n])


def make_lines(count, rng):
    lines = []
    for _ in range(count):
        label = rng.randint(1, 4)
        words = [rng.choice(TOPICS[label].split()) if rng.random() < 0.4 else rng.choice(COMMON)
                 for _ in range(rng.randint(6, 20))]
        lines.append((label, " ".join(words).capitalize() + "."))
    return lines


class Vocab:
    def __init__(self, counter_source):
        self.itos = ["<unk>"] + sorted({token for tokens in counter_source for token in tokens})
        self.stoi = {token: index for index, token in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def __getitem__(self, token):
        return self.stoi.get(token, 0)


class TextClassificationDataset(torch.utils.data.Dataset):
    def __init__(self, vocab, data, labels):
        self._vocab, self._data, self._labels = vocab, data, labels

    def __getitem__(self, i):
        return self._data[i]

    def __len__(self):
        return len(self._data)

    def get_labels(self):
        return self._labels

    def get_vocab(self):
        return self._vocab


def build_datasets(ngrams):
    rng = random.Random(0)
    train_lines, test_lines = make_lines(400, rng), make_lines(80, rng)
    tokens = [list(ngrams_iterator(basic_english(line), ngrams)) for _, line in train_lines]
    vocab = Vocab(tokens)

    def encode(lines):
        return [(label - 1, torch.tensor([vocab[token] for token in
                                          ngrams_iterator(basic_english(line), ngrams)]))
                for label, line in lines]
    labels = {0, 1, 2, 3}
    return (TextClassificationDataset(vocab, encode(train_lines), labels),
            TextClassificationDataset(vocab, encode(test_lines), labels))


torch.manual_seed(0)  # the random split and the shuffles (added: the runs are repeatable)
train_dataset, test_dataset = build_datasets(NGRAMS)
BATCH_SIZE = 16
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

import autodiff.nn as nn


class TextSentiment(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=True)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


VOCAB_SIZE = len(train_dataset.get_vocab())
EMBED_DIM = 32
NUN_CLASS = len(train_dataset.get_labels())
model = TextSentiment(VOCAB_SIZE, EMBED_DIM, NUN_CLASS).to(device)


def generate_batch(batch):
    label = torch.tensor([entry[0] for entry in batch])
    text = [entry[1] for entry in batch]
    offsets = [0] + [len(entry) for entry in text]
    # torch.Tensor.cumsum returns the cumulative sum
    # of elements in the dimension dim.
    # torch.Tensor([1.0, 2.0, 3.0]).cumsum(dim=0)

    offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
    text = torch.cat(text)
    return text, offsets, label


from autodiff.utils.data import DataLoader

sparse_grads = []

def train_func(sub_train_):

    # Train the model
    train_loss = 0
    train_acc = 0
    data = DataLoader(sub_train_, batch_size=BATCH_SIZE, shuffle=True,
                      collate_fn=generate_batch)
    for i, (text, offsets, cls) in enumerate(data):
        optimizer.zero_grad()
        text, offsets, cls = text.to(device), offsets.to(device), cls.to(device)
        output = model(text, offsets)
        loss = criterion(output, cls)
        train_loss += loss.item()
        loss.backward()
        sparse_grads.append(model.embedding.weight.grad.is_sparse)
        optimizer.step()
        train_acc += (output.argmax(1) == cls).sum().item()

    # Adjust the learning rate
    scheduler.step()

    return train_loss / len(sub_train_), train_acc / len(sub_train_)

def test(data_):
    loss = 0
    acc = 0
    data = DataLoader(data_, batch_size=BATCH_SIZE, collate_fn=generate_batch)
    for text, offsets, cls in data:
        text, offsets, cls = text.to(device), offsets.to(device), cls.to(device)
        with torch.no_grad():
            output = model(text, offsets)
            loss = criterion(output, cls)
            loss += loss.item()
            acc += (output.argmax(1) == cls).sum().item()

    return loss / len(data_), acc / len(data_)


import time

from autodiff.utils.data.dataset import random_split

N_EPOCHS = 3
min_valid_loss = float('inf')

criterion = torch.nn.CrossEntropyLoss().to(device)
optimizer = torch.optim.SGD(model.parameters(), lr=4.0)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.9)

train_len = int(len(train_dataset) * 0.95)
sub_train_, sub_valid_ = \
    random_split(train_dataset, [train_len, len(train_dataset) - train_len])

accuracies = []
for epoch in range(N_EPOCHS):

    start_time = time.time()
    train_loss, train_acc = train_func(sub_train_)
    valid_loss, valid_acc = test(sub_valid_)
    accuracies.append((train_acc, valid_acc))

    secs = int(time.time() - start_time)
    mins = secs / 60
    secs = secs % 60

    print('Epoch: %d' %(epoch + 1), " | time in %d minutes, %d seconds" %(mins, secs))
    print(f'\tLoss: {train_loss:.4f}(train)\t|\tAcc: {train_acc * 100:.1f}%(train)')
    print(f'\tLoss: {valid_loss:.4f}(valid)\t|\tAcc: {valid_acc * 100:.1f}%(valid)')


print('Checking the results of test dataset...')
test_loss, test_acc = test(test_dataset)
print(f'\tLoss: {test_loss:.4f}(test)\t|\tAcc: {test_acc * 100:.1f}%(test)')


ag_news_label = {1 : "World",
                 2 : "Sports",
                 3 : "Business",
                 4 : "Sci/Tec"}

def predict(text, model, vocab, ngrams):
    tokenizer = basic_english
    with torch.no_grad():
        text = torch.tensor([vocab[token]
                            for token in ngrams_iterator(tokenizer(text), ngrams)])
        output = model(text, torch.tensor([0]))
        return output.argmax(1).item() + 1

ex_text_str = "MEMPHIS, Tenn. - The coach said the golf round of the season was over \
    after the match: the players and the score of the tournament, with a new goal."

vocab = train_dataset.get_vocab()
model = model.to("cpu")

print("This is a %s news" %ag_news_label[predict(ex_text_str, model, vocab, 2)])

# -- checks (added for the tests) --
assert len(sub_train_) == 380 and len(sub_valid_) == 20
assert sorted(sub_train_.indices + sub_valid_.indices) == list(range(400))
assert scheduler.get_last_lr() == [4.0 * 0.9 ** 3], scheduler.get_last_lr()
assert accuracies[-1][0] > 0.8 and test_acc > 0.8, (accuracies, test_acc)
assert predict(ex_text_str, model, vocab, 2) == 2  # Sports
# EmbeddingBag's default mode is the mean of each bag.
text, offsets, _ = generate_batch([test_dataset[0], test_dataset[1]])
bags = model.embedding(text, offsets)
first = model.embedding.weight[test_dataset[0][1]].mean(0)
assert torch.allclose(bags[0], first, atol=1e-6)
# EmbeddingBag(sparse=True): the weight's gradient is a sparse COO tensor in every step.
assert len(sparse_grads) == 3 * 24
assert all(sparse_grads), "EmbeddingBag(sparse=True) gave a dense weight gradient"
