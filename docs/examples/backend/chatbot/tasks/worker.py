"""Worker entry point: ``celery -A chatbot.tasks.worker worker -Q default,llm``.

Beat (the scheduler) runs as exactly one extra process: ``celery -A chatbot.tasks.worker beat``.
"""

from chatbot.settings import get_settings
from chatbot.tasks.celery_app import make_celery

app = make_celery(get_settings())
