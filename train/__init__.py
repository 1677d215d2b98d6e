"""webtext.train: the bundled GPT pretraining loop (nanoGPT-sized, one file per concern).

    presets.py     the published model shapes (GPT-1, GPT-2 x4, GPT-3 x8, tiny) and exact parameter counts
    model.py       the GPT-2 decoder-only Transformer
    data.py        streaming windows out of llm.c token shards, with an exact cursor
    loop.py        the training loop (AdamW, schedule, accumulation, mixed precision, guards, DDP)
    guard.py       skipping non-finite and spiking updates
    checkpoint.py  atomic checkpoints, newest K kept, weights_only loading, RNG states
    metrics.py     metrics.jsonl and loss.png
    mfu.py         PaLM's FLOPs per token, GPU peak table, CPU matmul probe
    cli.py         train-on-shards;  estimate.py  webtext estimate;  sample.py  webtext sample

It reads token shards through webtext.tokenizer.shards and decodes samples with
webtext.tokenizer.load_encoding; it imports nothing else from the other stages.
"""
