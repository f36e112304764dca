"""False-alarm rate of the reference-map agreement test (neurolip.evaluation.reference_maps) on smooth random
maps with no shared signal: the spatial null (brainsmash variogram-matched surrogates of the reference,
Burt et al. 2020) beside the region-shuffling null, each with its 95 % binomial (Wilson) interval.

Each of --maps pairs draws two independent smooth random maps on the run's atlas regions (white noise
smoothed by a Gaussian of the centroid distances, --sigma mm): a reference and a disease map. Any agreement
is chance; a calibrated one-sided test at 5 % calls about 5 % of them significant.

    PYTHONPATH=src python benchmarks/reference_null.py --maps 100 --surrogates 50 --regions 100
"""

import argparse
import time

from scipy.stats import binomtest

from neurolip.datasets.base import roi_coordinates
from neurolip.evaluation.reference_maps import centroid_distances, false_alarms


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=100)
    parser.add_argument("--surrogates", type=int, default=50)
    parser.add_argument(
        "--regions", type=int, default=100, help="first R regions of CC200 (the demo uses 100)"
    )
    parser.add_argument("--sigma", type=float, nargs="+", default=[15.0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    distances = centroid_distances(roi_coordinates(args.regions))
    print(
        f"{args.maps} pairs of smooth random maps on {args.regions} CC200 regions, {args.surrogates} surrogates"
    )
    for sigma in args.sigma:
        start = time.time()
        result = false_alarms(distances, args.maps, args.surrogates, sigma, seed=args.seed)
        for null in ("spatial", "shuffle"):
            alarms = int(result[f"{null}_alarm"].sum())
            low, high = binomtest(alarms, args.maps).proportion_ci(0.95, method="wilson")
            print(
                f"sigma {sigma:g} mm, {null:7s} null: false alarms {alarms}/{args.maps} = "
                f"{alarms / args.maps:.1%} [95 % CI {low:.1%}-{high:.1%}] (nominal 5 %)"
            )
        print(
            f"  median |Spearman| of unrelated maps {result['spearman'].abs().median():.2f}; {time.time() - start:.0f} s"
        )


if __name__ == "__main__":
    main()
