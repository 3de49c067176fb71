from rlvr_eval.data.benchmarks import load_benchmark
from rlvr_eval.io import write_parquet
from rlvr_eval.provenance.scriptlog import logged

with logged(snakemake) as prov:
    p = snakemake.params
    table, provenance = load_benchmark(snakemake.wildcards.benchmark, p.mirror_dir, p.hub_revision, p.limit,
                                       p.check_known_files, p.synthetic, p.split, p.problem_ids, p.visual,
                                       p.hub_images_dir, p.window)
    print(provenance)
    write_parquet(snakemake.output[0], table, provenance)
    prov.add_dataset(snakemake.wildcards.benchmark, provenance, table=snakemake.output[0])
    if "image" in table:  # visual benchmarks: every image read, hashed (also in the table's image_sha256 column)
        for image in table["image"]:
            prov.add_input(image)
