"""Lesson 00's tour: the Hub's task families, built from transformers' own pipeline registry."""

from __future__ import annotations

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
    """One row per task: family, task, the pipeline class, its default Hub model, aliases.

    Rows come from ``transformers.pipelines.SUPPORTED_TASKS`` (what this installed version
    can run), plus the Hub families with no transformers pipeline, marked as such.
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
            }
        )
    for family, tasks in HUB_ONLY_TASKS.items():
        for task in tasks:
            rows.append(
                {
                    "family": family,
                    "task": task,
                    "pipeline class": "(no transformers pipeline)",
                    "default model": "-",
                    "aliases": "",
                }
            )
    order = {family: i for i, family in enumerate(FAMILIES)}
    rows.sort(key=lambda r: (order.get(r["family"], len(order)), r["task"]))
    return rows
