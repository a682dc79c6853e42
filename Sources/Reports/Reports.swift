/// Reports: findings.json, report.html with key images, and the batch worklist.
