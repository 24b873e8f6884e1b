"""An import's progress and per-row errors."""

from application.bulk.import_jobs import ImportJob, ImportNotFound, ImportStore


class GetImportHandler:
    def __init__(self, imports: ImportStore):
        self._imports = imports

    async def execute(self, business_id: str, import_id: str) -> ImportJob:
        job = await self._imports.get(business_id, import_id)
        if job is None:
            raise ImportNotFound(import_id)
        return job
