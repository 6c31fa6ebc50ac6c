"""The crisis screen: messages about suicide, self-harm, abuse or a medical emergency bypass free generation.

`rules` (transparent regular expressions from prompts/safety_patterns.txt) and `semantic` (MiniLM's top layers
fine-tuned as a crisis detector, for indirect language, slang and misspellings) feed `screen.SafetyScreen`;
`examples` reads the labelled lines it is fitted and measured on.
"""

from agent.safety.screen import SafetyScreen
from agent.safety.semantic import CrisisModelError, SemanticDetector, load_crisis_model
from agent.safety.verdict import CATEGORIES, DEFAULT_HOTLINE, SafetyVerdict, safety_emotion

__all__ = [
    "CATEGORIES",
    "DEFAULT_HOTLINE",
    "CrisisModelError",
    "SafetyScreen",
    "SafetyVerdict",
    "SemanticDetector",
    "load_crisis_model",
    "safety_emotion",
]
