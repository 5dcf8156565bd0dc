"""Fine-tune the course encoder on Rotten Tomatoes sentiment with LoRA (or fully) and `Trainer`.

The same file runs, unchanged, in one process or in several (lesson 09):

    python scripts/finetune_sentiment.py --fast
    torchrun --nproc_per_node 2 scripts/finetune_sentiment.py --fast
    accelerate launch --multi_gpu --num_processes 2 scripts/finetune_sentiment.py --fast
    accelerate launch --num_processes 2 --cpu scripts/finetune_sentiment.py --fast

On a CPU set ``OMP_NUM_THREADS=1`` for several processes (one thread per process, one process
per core). The last command starts *one* process: accelerate hands multi-CPU runs to
``mpirun`` (``--mpirun_hostfile``), so without MPI ``--cpu`` gives world size 1; the command
above it starts two processes through ``torch.distributed.run``, and on a machine without a
GPU `Trainer` (``use_cpu=True``) joins them with the gloo backend.

``--batch-size`` is the *effective* batch, the examples behind one optimizer step, summed
over all processes: each of the N processes takes ``batch_size / N`` of them, so the
training follows the same recipe whatever N is. ``--lora-rank 0`` fine-tunes every weight.

Only the main process (rank 0) prints, saves and writes ``results.json``. The last line it
prints is ``world_size=N held_out_accuracy=0.xxxx ...`` (accuracy on the held-out test split).
The saved adapter names its base model by its Hub id (``adapter_config.json``), not by this
machine's offline folder.

``--gradient-check`` proves that N processes average their gradients: before training, one
optimizer step on a copy of the model and the first ``--batch-size`` training examples, with
dropout and gradient clipping off, saves the gradient the optimizer sees (after the
all-reduce) to ``gradients.safetensors``. Run as 1 and as N processes, the two files agree to
float rounding; with ``--average-tokens-across-devices`` (transformers' default) the N-process
gradient is N times too large. ``--skip-training`` stops after the check.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import time
import warnings
from pathlib import Path

FAST_SIZES = {"train_size": 960, "test_size": 256, "max_steps": 60}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="small sizes: a quick check (tests)")
    parser.add_argument(
        "--output-dir",
        default=None,
        help="folder for the saved model or adapter and results.json "
        "(default: outputs/finetune_sentiment/ in the project)",
    )
    parser.add_argument(
        "--lora-rank", type=int, default=8, help="LoRA rank r (default 8); 0: full fine-tuning"
    )
    parser.add_argument(
        "--lora-alpha", type=float, default=16.0, help="LoRA alpha; the update is scaled by alpha/r"
    )
    parser.add_argument(
        "--train-size", type=int, default=None, help="training examples (default 2,400)"
    )
    parser.add_argument(
        "--test-size", type=int, default=None, help="held-out examples (default: the test split)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=16,
        help="effective batch: examples per optimizer step, summed over processes (default 16)",
    )
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="default 2e-3 with LoRA; without, 1e-4 (2e-5 for bert-base-uncased)",
    )
    parser.add_argument("--max-length", type=int, default=64, help="truncation length in tokens")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--gradient-check",
        action="store_true",
        help="before training, save the gradient of one step on fixed examples "
        "(OUTPUT_DIR/gradients.safetensors)",
    )
    parser.add_argument(
        "--skip-training", action="store_true", help="with --gradient-check: stop after the check"
    )
    parser.add_argument(
        "--average-tokens-across-devices",
        action="store_true",
        help="transformers' default, off here: it multiplies this loss by the number of processes",
    )
    parser.add_argument(
        "--role",
        default="embedder",
        help="tutorial_utils model role (default embedder: all-MiniLM-L6-v2 online and offline; "
        "encoder: bert-base-uncased online)",
    )
    args = parser.parse_args(argv)
    defaults = FAST_SIZES if args.fast else {"train_size": 2400, "max_steps": -1}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.lora_rank < 0:
        parser.error(f"--lora-rank must be 0 (full fine-tuning) or positive, not {args.lora_rank}")
    if args.skip_training and not args.gradient_check:
        parser.error("--skip-training only makes sense with --gradient-check")
    return args


def folder_bytes(folder: Path) -> int:
    """Bytes of the weight files in ``folder`` (safetensors / bin), what a model costs to keep."""
    return sum(p.stat().st_size for p in folder.iterdir() if p.suffix in (".safetensors", ".bin"))


def gradient_check(trainer, examples, path: Path) -> None:
    """One optimizer step of a copy of ``trainer``'s model on ``examples``; save its gradients.

    Dropout is switched off and gradient clipping too (clipping would rescale a gradient that is
    too large back to the same norm), so the saved tensors are the averaged gradients of the
    mean loss over ``examples``, as the optimizer receives them.
    """
    import copy

    import torch
    from safetensors.torch import save_file
    from transformers import PrinterCallback, Trainer, TrainerCallback

    model = copy.deepcopy(trainer.model)
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    saved = {}

    class SaveGradients(TrainerCallback):
        def on_pre_optimizer_step(self, args, state, control, model=None, **kwargs):
            for name, parameter in model.named_parameters():
                if parameter.requires_grad:
                    saved[name] = parameter.grad.detach().float().cpu().contiguous()

    args = copy.deepcopy(trainer.args)
    args.max_steps, args.max_grad_norm = 1, 0.0
    probe = Trainer(
        model=model,
        args=args,
        train_dataset=examples,
        data_collator=trainer.data_collator,
        callbacks=[SaveGradients()],
    )
    probe.remove_callback(PrinterCallback)  # no metrics line for the check's one step
    probe.train()
    if probe.is_world_process_zero():
        save_file(saved, str(path))


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    # A launcher (torchrun, accelerate launch) starts N copies of this script and tells each
    # which one it is through environment variables; plain `python` sets none of them.
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if args.batch_size % world_size:
        sys.exit(
            f"--batch-size {args.batch_size} does not split evenly over {world_size} processes: "
            f"pass a multiple of {world_size}."
        )
    per_device_batch = args.batch_size // world_size
    main_process = rank == 0
    # Only the main process talks; the others stay quiet (their output would interleave).
    talk = contextlib.nullcontext() if main_process else contextlib.redirect_stdout(io.StringIO())

    import numpy as np
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    import tutorial_utils as tu

    with talk:
        tu.setup(seed=args.seed)
        checkpoint = tu.checkpoint(args.role)
        raw = tu.load_reviews("rotten_tomatoes", seed=args.seed)
    if args.learning_rate is None:
        full_rate = 2e-5 if "bert-base" in checkpoint else 1e-4
        args.learning_rate = 2e-3 if args.lora_rank else full_rate
    out = Path(args.output_dir) if args.output_dir else tu.output_dir("finetune_sentiment")
    out.mkdir(parents=True, exist_ok=True)

    train = tu.data.sample(raw["train"], args.train_size, seed=args.seed)
    test = tu.data.sample(raw["test"], args.test_size, seed=args.seed)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, max_length=args.max_length)

    train = train.map(tokenize, batched=True, remove_columns=["text"])
    test = test.map(tokenize, batched=True, remove_columns=["text"])
    # the gradient check's fixed examples: the first effective batch of the training split
    fixed = raw["train"].select(range(args.batch_size))
    fixed = fixed.map(tokenize, batched=True, remove_columns=["text"])
    names = raw["train"].features["label"].names
    tu.seed_everything(args.seed)  # the random head (and LoRA's A) of lesson 09's runs
    model = AutoModelForSequenceClassification.from_pretrained(
        checkpoint,
        num_labels=len(names),
        id2label=dict(enumerate(names)),
        label2id={name: i for i, name in enumerate(names)},
    )
    if args.lora_rank:
        config = LoraConfig(
            task_type=TaskType.SEQ_CLS,  # keeps the new classifier head trainable and saved
            r=args.lora_rank,
            lora_alpha=args.lora_alpha,
            lora_dropout=0.0,
            target_modules=["query", "value"],
        )
        model = get_peft_model(model, config)
        # peft records where the base model was loaded from: offline a folder of this machine;
        # record the Hub id instead, so that the saved adapter loads anywhere
        model.peft_config["default"].base_model_name_or_path = tu.lora.base_model_name(checkpoint)
        # saving, peft asks the Hub whether that model's vocabulary changed; offline it cannot
        # and warns. It did not: no embedding is adapted.
        warnings.filterwarnings("ignore", message="Could not find a config file in")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())

    training_args = TrainingArguments(
        output_dir=str(out / "trainer"),
        per_device_train_batch_size=per_device_batch,  # x world_size = the effective batch
        per_device_eval_batch_size=64,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        warmup_steps=0.1,
        weight_decay=0.01,
        train_sampling_strategy="group_by_length",
        logging_steps=10**9,  # no loss lines: the summary below is what this script reports
        save_strategy="no",
        seed=args.seed,
        report_to="none",
        use_cpu=tu.device() == "cpu",  # on a CPU: processes join with the gloo backend
        **tu.mixed_precision_args(),  # bf16/fp16 on a CUDA GPU, nothing on a CPU
        ddp_find_unused_parameters=False,
        # The classification loss is already a mean over each process's examples, and DDP
        # averages the gradients: that is the mean over the effective batch. The default
        # (True) multiplies the loss by the number of processes for losses normalised by a
        # token count across devices, which this loss is not: gradients would double (the
        # gradient check measures it with --average-tokens-across-devices).
        average_tokens_across_devices=args.average_tokens_across_devices,  # False by default
        dataloader_pin_memory=False,
        disable_tqdm=True,
    )
    if training_args.world_size != world_size:
        raise RuntimeError(
            f"Trainer sees {training_args.world_size} processes, the launcher said {world_size}"
        )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train,
        data_collator=DataCollatorWithPadding(tokenizer=tokenizer),
        processing_class=tokenizer,
    )
    if args.gradient_check:
        gradient_check(trainer, fixed, out / "gradients.safetensors")
        with talk:
            print(
                f"gradient check: one step on {len(fixed)} fixed examples ({world_size} x "
                f"{per_device_batch}); gradients saved to {out / 'gradients.safetensors'}"
            )
        if args.skip_training:
            if main_process:
                check = {
                    "world_size": world_size,
                    "per_device_batch": per_device_batch,
                    "effective_batch": args.batch_size,
                    "average_tokens_across_devices": args.average_tokens_across_devices,
                }
                (out / "results.json").write_text(json.dumps(check, indent=2), encoding="utf-8")
                print(f"world_size={world_size} gradient_check=done", flush=True)
            return {}
    started = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - started

    # Every process predicts its share of the test split; Trainer gathers all the logits.
    prediction = trainer.predict(test)
    if len(prediction.predictions) != len(test):
        raise RuntimeError(f"gathered {len(prediction.predictions)} predictions for {len(test)}")
    accuracy = float(np.mean(prediction.predictions.argmax(-1) == prediction.label_ids))

    trainer.save_model(str(out / "model"))  # only the main process writes
    if not main_process:
        return {}
    results = {
        "world_size": world_size,
        "threads_per_process": torch.get_num_threads(),
        "per_device_batch": per_device_batch,
        "effective_batch": args.batch_size,
        "lora_rank": args.lora_rank,
        "trainable_parameters": trainable,
        "total_parameters": total,
        "train_examples": len(train),
        "steps": trainer.state.global_step,
        "train_seconds": round(train_seconds, 1),
        "test_examples": len(test),
        "held_out_accuracy": accuracy,
        "saved_bytes": folder_bytes(out / "model"),
        "checkpoint": checkpoint,
        "average_tokens_across_devices": args.average_tokens_across_devices,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(
        f"trained {results['steps']} steps of {args.batch_size} examples "
        f"({world_size} x {per_device_batch}) in {train_seconds:.1f} s; "
        f"{trainable:,} of {total:,} parameters trainable; saved {results['saved_bytes']:,} "
        f"bytes to {out / 'model'}"
    )
    print(
        f"world_size={world_size} held_out_accuracy={accuracy:.4f} test_examples={len(test)} "
        f"train_seconds={train_seconds:.1f} lora_rank={args.lora_rank} "
        f"effective_batch={args.batch_size}",
        flush=True,
    )
    return results


def leave_process_group() -> None:
    """Leave the process group (each process, after its work): a process that exits with
    gloo's threads still running can abort at exit ("terminate called without an active
    exception", pytorch/pytorch#190489) after its work is done. Only after a run that
    ended well: a process that failed could wait here for the others forever."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
    leave_process_group()
