# Adapted from pytorch/tutorials, advanced_source/dynamic_quantization_tutorial.py ("(experimental)
# Dynamic Quantization on an LSTM Word Language Model").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the libgomp thread setting is left
# out; sentences from a small grammar, written to ./data/wikitext-2, stand in for the Wikitext-2
# download, and six short epochs of the word language model example's training stand in for the
# pre-trained weights; the model shrunk (ninp 32, nhid 32, 2 layers), 100 words generated;
# assertions at the end.

# imports
import math
import os
import random
import time
from io import open

import autodiff as torch
import autodiff.nn as nn

torch.set_num_threads(1)

######################################################################
# 1. Define the model
# -------------------


class LSTMModel(nn.Module):
    """Container module with an encoder, a recurrent module, and a decoder."""

    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.5):
        super(LSTMModel, self).__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

        self.init_weights()

        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        self.encoder.weight.data.uniform_(-initrange, initrange)
        self.decoder.bias.data.zero_()
        self.decoder.weight.data.uniform_(-initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        return decoded, hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid))

######################################################################
# 2. Load in the text data
# ------------------------


class Dictionary(object):
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus(object):
    def __init__(self, path):
        self.dictionary = Dictionary()
        self.train = self.tokenize(os.path.join(path, 'train.txt'))
        self.valid = self.tokenize(os.path.join(path, 'valid.txt'))
        self.test = self.tokenize(os.path.join(path, 'test.txt'))

    def tokenize(self, path):
        """Tokenizes a text file."""
        assert os.path.exists(path)
        # Add words to the dictionary
        with open(path, 'r', encoding="utf8") as f:
            for line in f:
                words = line.split() + ['<eos>']
                for word in words:
                    self.dictionary.add_word(word)

        # Tokenize file content
        with open(path, 'r', encoding="utf8") as f:
            idss = []
            for line in f:
                words = line.split() + ['<eos>']
                ids = []
                for word in words:
                    ids.append(self.dictionary.word2idx[word])
                idss.append(torch.tensor(ids).type(torch.int64))
            ids = torch.cat(idss)

        return ids


def write_corpus(path):
    """Sentences from a small grammar, in place of the Wikitext-2 files."""
    rng = random.Random(0)
    subjects = ['the cat', 'a dog', 'the old man', 'my sister', 'the bird', 'our teacher']
    verbs = ['sees', 'likes', 'follows', 'finds', 'watches']
    objects = ['the ball', 'a red car', 'the small house', 'the river', 'an apple']
    places = ['in the park', 'at home', 'near the river', 'on the hill']
    os.makedirs(path, exist_ok=True)
    for name, lines in (('train.txt', 200), ('valid.txt', 30), ('test.txt', 30)):
        with open(os.path.join(path, name), 'w', encoding="utf8") as f:
            for _ in range(lines):
                f.write(' '.join([rng.choice(subjects), rng.choice(verbs), rng.choice(objects),
                                  rng.choice(places), '.']) + '\n')


torch.manual_seed(1111)
model_data_filepath = 'data/'
write_corpus(model_data_filepath + 'wikitext-2')
corpus = Corpus(model_data_filepath + 'wikitext-2')

######################################################################
# 3. Train the model briefly (in place of loading pre-trained weights)
# --------------------------------------------------------------------

ntokens = len(corpus.dictionary)

model = LSTMModel(
    ntoken = ntokens,
    ninp = 32,
    nhid = 32,
    nlayers = 2,
    dropout = 0.2,
)

bptt = 10
criterion = nn.CrossEntropyLoss()


def batchify(data, bsz):
    # Work out how cleanly we can divide the dataset into bsz parts.
    nbatch = data.size(0) // bsz
    # Trim off any extra elements that wouldn't cleanly fit (remainders).
    data = data.narrow(0, 0, nbatch * bsz)
    # Evenly divide the data across the bsz batches.
    return data.view(bsz, -1).t().contiguous()


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i+seq_len]
    target = source[i+1:i+1+seq_len].view(-1)
    return data, target


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""

    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


# the word language model example's training loop (main.py), six epochs
train_data = batchify(corpus.train, 8)
lr = 20
for epoch in range(6):
    model.train()
    hidden = model.init_hidden(8)
    for i in range(0, train_data.size(0) - 1, bptt):
        data, targets = get_batch(train_data, i)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output.view(-1, ntokens), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
    print('| end of epoch {} | loss {:5.2f}'.format(epoch + 1, loss.item()))

model.eval()
print(model)

######################################################################
# Now let's generate some text to ensure that the model is working

input_ = torch.randint(ntokens, (1, 1), dtype=torch.long)
hidden = model.init_hidden(1)
temperature = 1.0
num_words = 100

with open(model_data_filepath + 'out.txt', 'w') as outf:
    with torch.no_grad():  # no tracking history
        for i in range(num_words):
            output, hidden = model(input_, hidden)
            word_weights = output.squeeze().div(temperature).exp().cpu()
            word_idx = torch.multinomial(word_weights, 1)[0]
            input_.fill_(word_idx)

            word = corpus.dictionary.idx2word[word_idx]

            outf.write(str(word.encode('utf-8')) + ('\n' if i % 20 == 19 else ' '))

            if i % 20 == 0:
                print('| Generated {}/{} words'.format(i, num_words))

with open(model_data_filepath + 'out.txt', 'r') as outf:
    all_output = outf.read()
    print(all_output)

eval_batch_size = 1

# create test data set
test_data = batchify(corpus.test, eval_batch_size)


def evaluate(model_, data_source):
    # Turn on evaluation mode which disables dropout.
    model_.eval()
    total_loss = 0.
    hidden = model_.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i)
            output, hidden = model_(data, hidden)
            hidden = repackage_hidden(hidden)
            output_flat = output.view(-1, ntokens)
            total_loss += len(data) * criterion(output_flat, targets).item()
    return total_loss / (len(data_source) - 1)

######################################################################
# 4. Test dynamic quantization
# ----------------------------

import autodiff.quantization

quantized_model = torch.quantization.quantize_dynamic(
    model, {nn.LSTM, nn.Linear}, dtype=torch.qint8
)
print(quantized_model)

######################################################################
# The model looks the same; how has this benefited us? First, we see a
# significant reduction in model size:


def print_size_of_model(model):
    torch.save(model.state_dict(), "temp.p")
    size = os.path.getsize("temp.p")
    print('Size (MB):', size/1e6)
    os.remove('temp.p')
    return size


float_size = print_size_of_model(model)
quantized_size = print_size_of_model(quantized_model)

######################################################################
# Second, we see faster inference time, with no difference in evaluation loss:


def time_model_evaluation(model, test_data):
    s = time.time()
    loss = evaluate(model, test_data)
    elapsed = time.time() - s
    print('''loss: {0:.3f}\nelapsed time (seconds): {1:.1f}'''.format(loss, elapsed))
    return loss


float_loss = time_model_evaluation(model, test_data)
quantized_loss = time_model_evaluation(quantized_model, test_data)

assert "DynamicQuantizedLSTM(32, 32, num_layers=2, dropout=0.2)" in str(quantized_model)
assert "DynamicQuantizedLinear(in_features=32" in str(quantized_model)
assert quantized_size < float_size
assert float_loss < 0.6 * math.log(ntokens)  # it learned the grammar
assert abs(quantized_loss - float_loss) < 0.02 * float_loss
