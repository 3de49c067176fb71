"""What each artifact was made from: job records, logic stamps, the environment, the audit, and the job log (every rule)."""
