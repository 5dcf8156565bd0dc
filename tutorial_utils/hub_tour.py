"""Lesson 00's tour: the Hub's task families (from transformers' own pipeline registry), model cards."""

from __future__ import annotations

import re

# The Hub's task taxonomy (huggingface.co/tasks) groups tasks into these families. Tasks
# that transformers has a pipeline for are read from its registry; the Hub also lists
# families that transformers has no pipeline for (tabular, reinforcement learning).
HUB_FAMILY_OF_TASK = {
    # Natural Language Processing
    "text-classification": "Natural Language Processing",
    "token-classification": "Natural Language Processing",
    "table-question-answering": "Natural Language Processing",
    "question-answering": "Natural Language Processing",
    "zero-shot-classification": "Natural Language Processing",
    "translation": "Natural Language Processing",
    "summarization": "Natural Language Processing",
    "feature-extraction": "Natural Language Processing",
    "text-generation": "Natural Language Processing",
    "fill-mask": "Natural Language Processing",
    "sentence-similarity": "Natural Language Processing",
    # not a task of the Hub's list: a transformers pipeline that reads text (see TASK_NOTES)
    "decision": "Natural Language Processing",
    # Computer Vision
    "depth-estimation": "Computer Vision",
    "image-classification": "Computer Vision",
    "image-feature-extraction": "Computer Vision",
    "image-segmentation": "Computer Vision",
    "mask-generation": "Computer Vision",
    "object-detection": "Computer Vision",
    "video-classification": "Computer Vision",
    "zero-shot-image-classification": "Computer Vision",
    "zero-shot-object-detection": "Computer Vision",
    "keypoint-matching": "Computer Vision",
    # Audio
    "audio-classification": "Audio",
    "automatic-speech-recognition": "Audio",
    "text-to-audio": "Audio",
    "zero-shot-audio-classification": "Audio",
    # Multimodal
    "document-question-answering": "Multimodal",
    "image-text-to-text": "Multimodal",
    "visual-question-answering": "Multimodal",
    "any-to-any": "Multimodal",
}
FAMILY_OF_REGISTRY_TYPE = {
    "text": "Natural Language Processing",
    "image": "Computer Vision",
    "video": "Computer Vision",
    "audio": "Audio",
    "multimodal": "Multimodal",
}
HUB_ONLY_TASKS = {
    "Tabular": ["tabular-classification", "tabular-regression", "time-series-forecasting"],
    "Reinforcement Learning": ["reinforcement-learning", "robotics"],
}
FAMILIES = [
    "Natural Language Processing",
    "Computer Vision",
    "Audio",
    "Multimodal",
    "Tabular",
    "Reinforcement Learning",
]


# What a row of the task table needs said beyond its name (shown in its "note" column).
TASK_NOTES = {
    "decision": (
        "a transformers task that is not in the write-up's list: it answers typed questions "
        "about a text (pick an option, give a score, yes or no) with a probability for every "
        "option, read from a chat model's next-token scores; it reads a text (images "
        "optional), so it is listed here"
    ),
    "feature-extraction": (
        "the write-up's screenshot showed it under Multimodal; this table follows the Hub's "
        "task list, which groups it with the text tasks (images: image-feature-extraction)"
    ),
}
NO_PIPELINE = "(no transformers pipeline)"
HUB_ONLY_NOTE = "a Hub task with no transformers pipeline: counted, not runnable with pipeline()"


def family_of(task: str) -> str:
    """The Hub family of a pipeline task name (aliases such as "sentiment-analysis" resolve)."""
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    task = TASK_ALIASES.get(task, task)
    if task in HUB_FAMILY_OF_TASK:
        return HUB_FAMILY_OF_TASK[task]
    for family, tasks in HUB_ONLY_TASKS.items():
        if task in tasks:
            return family
    if task in SUPPORTED_TASKS:
        return FAMILY_OF_REGISTRY_TYPE.get(SUPPORTED_TASKS[task].get("type", ""), "Other")
    raise ValueError(
        f"Unknown task {task!r}. Known pipeline tasks: {', '.join(sorted(SUPPORTED_TASKS))}."
    )


def task_families() -> list[dict[str, str]]:
    """One row per task: family, task, the pipeline class, its default Hub model, aliases, note.

    Rows come from ``transformers.pipelines.SUPPORTED_TASKS`` (what this installed version
    can run), plus the Hub families with no transformers pipeline, marked as such in the
    ``pipeline class`` and ``note`` columns.
    """
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    aliases: dict[str, list[str]] = {}
    for alias, task in TASK_ALIASES.items():
        aliases.setdefault(task, []).append(alias)
    rows = []
    for task, spec in SUPPORTED_TASKS.items():
        impl = spec.get("impl")
        impl_name = impl if isinstance(impl, str) else getattr(impl, "__name__", str(impl))
        default = spec.get("default", {}).get("model")
        if isinstance(default, dict):
            default = next(iter(default.values()), None)
        rows.append(
            {
                "family": family_of(task),
                "task": task,
                "pipeline class": impl_name.rsplit(".", 1)[-1],
                "default model": default[0] if isinstance(default, tuple) else (default or "-"),
                "aliases": ", ".join(sorted(aliases.get(task, []))),
                "note": TASK_NOTES.get(task, ""),
            }
        )
    for family, tasks in HUB_ONLY_TASKS.items():
        for task in tasks:
            rows.append(
                {
                    "family": family,
                    "task": task,
                    "pipeline class": NO_PIPELINE,
                    "default model": "-",
                    "aliases": "",
                    "note": HUB_ONLY_NOTE,
                }
            )
    order = {family: i for i, family in enumerate(FAMILIES)}
    rows.sort(key=lambda r: (order.get(r["family"], len(order)), r["task"]))
    return rows


# The task names of the write-up's section 2.2, family by family, with the Hub's task id.
WRITEUP_TASKS = {
    "Computer Vision": {
        "Image Classification": "image-classification",
        "Image Segmentation": "image-segmentation",
        "Zero-Shot Image Classification": "zero-shot-image-classification",
        "Image-to-Image": "image-to-image",
        "Unconditional Image Generation": "unconditional-image-generation",
        "Object Detection": "object-detection",
        "Video Classification": "video-classification",
        "Depth Estimation": "depth-estimation",
    },
    "Natural Language Processing": {
        "Translation": "translation",
        "Fill-Mask": "fill-mask",
        "Token Classification": "token-classification",
        "Sentence Similarity": "sentence-similarity",
        "Question Answering": "question-answering",
        "Summarization": "summarization",
        "Zero-Shot Classification": "zero-shot-classification",
        "Text Classification": "text-classification",
        "Text2Text Generation": "text2text-generation",
        "Text Generation": "text-generation",
        "Conversational": "conversational",
        "Table Question Answering": "table-question-answering",
    },
    "Audio": {
        "Automatic Speech Recognition": "automatic-speech-recognition",
        "Audio Classification": "audio-classification",
        "Text-to-Speech": "text-to-speech",
        "Audio-to-Audio": "audio-to-audio",
        "Voice Activity Detection": "voice-activity-detection",
    },
    "Multimodal": {
        "Feature Extraction": "feature-extraction",
        "Text-to-Image": "text-to-image",
        "Visual Question Answering": "visual-question-answering",
        "Image-to-Text": "image-to-text",
        "Document Question Answering": "document-question-answering",
    },
    "Tabular": {
        "Tabular Classification": "tabular-classification",
        "Tabular Regression": "tabular-regression",
    },
    "Reinforcement Learning": {
        "Reinforcement Learning": "reinforcement-learning",
        "Robotics": "robotics",
    },
}

# Why a task of the write-up has no pipeline in the installed transformers, and what to use.
NO_PIPELINE_REASON = {
    "translation": "not a pipeline in transformers 5 (transformers 4 had one): an instruct model with text-generation, or the model class and generate()",
    "summarization": "not a pipeline in transformers 5 (transformers 4 had one): an instruct model with text-generation, or the model class and generate()",
    "question-answering": "not a pipeline in transformers 5 (transformers 4 had one): AutoModelForQuestionAnswering by hand, or an instruct model",
    "text2text-generation": "not a pipeline in transformers 5 (transformers 4 had one): AutoModelForSeq2SeqLM and generate()",
    "conversational": "not a pipeline since transformers 4.42: text-generation with a list of chat messages (lesson 03)",
    "visual-question-answering": "not a pipeline in transformers 5 (transformers 4 had one): image-text-to-text",
    "image-to-text": "not a pipeline in transformers 5 (transformers 4 had one): image-text-to-text",
    "image-to-image": "not a pipeline in transformers 5 (transformers 4 had one): the model class by hand, or diffusers",
    "sentence-similarity": "a Hub task served by the sentence-transformers library (feature-extraction + cosine, lesson 03)",
    "unconditional-image-generation": "a Hub task served by the diffusers library",
    "text-to-image": "a Hub task served by the diffusers library",
    "audio-to-audio": "a Hub task served by libraries such as SpeechBrain or Asteroid",
    "voice-activity-detection": "a Hub task served by libraries such as pyannote.audio",
    "tabular-classification": "a Hub task served by scikit-learn / skops models, no transformers pipeline",
    "tabular-regression": "a Hub task served by scikit-learn / skops models, no transformers pipeline",
    "reinforcement-learning": "a Hub task served by libraries such as Stable-Baselines3",
    "robotics": "a Hub task served by libraries such as LeRobot",
}


def writeup_tasks() -> list[dict[str, str]]:
    """Every task the write-up lists, with what the installed transformers offers for it.

    ``pipeline`` is the task name to pass to ``pipeline()`` (aliases resolved) when the
    installed version registers it, else ``"-"`` and ``status`` says why and what to use.
    """
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    rows = []
    for family, tasks in WRITEUP_TASKS.items():
        for name, task in tasks.items():
            registered = TASK_ALIASES.get(task, task)
            if registered in SUPPORTED_TASKS:
                impl = SUPPORTED_TASKS[registered].get("impl")
                impl_name = impl if isinstance(impl, str) else getattr(impl, "__name__", str(impl))
                status = f"pipeline class {impl_name.rsplit('.', 1)[-1]}"
                pipeline_task = registered
            else:
                status = NO_PIPELINE_REASON.get(task, "no pipeline in this transformers version")
                pipeline_task = "-"
            rows.append(
                {
                    "family": family,
                    "write-up task": name,
                    "Hub task": task,
                    "pipeline": pipeline_task,
                    "status": status,
                }
            )
    return rows


def family_differences() -> list[dict[str, str]]:
    """Tasks that the write-up and :func:`task_families` place in different families."""
    ours = {row["task"]: row["family"] for row in task_families()}
    rows = []
    for row in writeup_tasks():
        task = row["pipeline"] if row["pipeline"] != "-" else row["Hub task"]
        if task in ours and ours[task] != row["family"]:
            rows.append({"task": task, "write-up": row["family"], "this table": ours[task]})
    return rows


def task_counts() -> dict[str, dict[str, int]]:
    """Per family: how many tasks have a transformers pipeline, and how many are Hub-only."""
    counts = {family: {"pipeline": 0, "Hub only": 0} for family in FAMILIES}
    for row in task_families():
        kind = "Hub only" if row["pipeline class"] == NO_PIPELINE else "pipeline"
        counts.setdefault(row["family"], {"pipeline": 0, "Hub only": 0})[kind] += 1
    return counts


# The models the write-up itself loads, by Hub id, with the sections that load them.
WRITEUP_MODELS = {
    "gpt2": "1.3.1",
    "distilbert-base-uncased-finetuned-sst-2-english": "1.3.3, 2.3.1",
    "bert-base-uncased": "2.3.1, 2.4.2",
    "THUDM/chatglm2-6b": "2.3.2",
}


def writeup_section_of(model_id: str) -> str:
    """The write-up sections that load ``model_id``, or a sentence saying that it does not."""
    return WRITEUP_MODELS.get(model_id, "not the write-up's model")


# --- model cards ------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")


def fence_lines(markdown: str) -> int:
    """How many lines open or close a code fence (even when every fence is closed)."""
    return sum(1 for line in markdown.splitlines() if _FENCE.match(line))


def card_sections(body: str) -> list[tuple[str, str]]:
    """A model card's markdown split at its headings: ``(heading title, section text)`` pairs.

    A line inside a code fence never starts a section (``# a comment`` in a Python block is
    not a heading), so every section holds whole code blocks. Text before the first heading
    comes with the title ``""``.
    """
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            sections.append((heading.group(2), [line]))
        else:
            sections[-1][1].append(line)
    return [(title, "\n".join(lines).strip()) for title, lines in sections if any(lines)]


def card_excerpt(body: str, titles: list[str]) -> str:
    """The sections of a model card with these heading titles, in the card's order.

    Raises ``ValueError`` naming the card's headings when a title is not one of them.
    """
    sections = card_sections(body)
    known = [title for title, _ in sections]
    missing = [title for title in titles if title not in known]
    if missing:
        raise ValueError(f"no section {missing[0]!r} in this card; its headings: {known}")
    return "\n\n".join(text for title, text in sections if title in titles)


def default_model(task: str) -> str:
    """The Hub model ``pipeline(task)`` downloads when no ``model=`` is given."""
    from transformers.pipelines import SUPPORTED_TASKS, TASK_ALIASES

    spec = SUPPORTED_TASKS.get(TASK_ALIASES.get(task, task))
    if spec is None:
        raise ValueError(f"{task!r} is not a pipeline task of this transformers version.")
    default = spec.get("default", {}).get("model")
    if isinstance(default, dict):
        default = next(iter(default.values()), None)
    if not default:
        raise ValueError(f"pipeline({task!r}) has no default model: pass model=...")
    return default[0] if isinstance(default, tuple) else default
