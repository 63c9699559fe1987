"""``unpaired``: the command-line interface.

Every user error (unknown recipe, bad ``--set``, missing data) prints one line and
exits with code 2; a NaN/inf during training exits with 3; an interrupted run exits
with 128 + the signal number after writing a checkpoint.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from unpaired import __version__
from unpaired.errors import ConfigError, UnpairedError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="unpaired",
    help="Learn mappings from unpaired supervision: AIGN, statistical distances, alignment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
data_app = typer.Typer(help="Inspect the data directory and motion files.", no_args_is_help=True)
app.add_typer(data_app, name="data")

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def _user_errors(fn: F) -> F:
    """Turn library errors into one red line and an exit code (no traceback)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except UnpairedError as e:
            err.print(f"[red]error:[/red] {e}", soft_wrap=True)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            err.print("[red]interrupted[/red]")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        out.print(f"unpaired {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Learn mappings from unpaired supervision."""


@app.command("recipes")
def recipes_cmd() -> None:
    """List the recipes (named experiments) with one-line descriptions."""
    from unpaired.recipes import RECIPES

    table = Table("recipe", "demo", "description", box=None, pad_edge=False)
    for spec in RECIPES.values():
        table.add_row(spec.name, "yes" if spec.embedded else "", spec.summary)
    out.print(table)


@app.command("run")
@_user_errors
def run_cmd(
    recipe: Annotated[str, typer.Argument(help="Recipe name (see `unpaired recipes`).")],
    quick: Annotated[
        bool, typer.Option("--quick", help="Small, fast version of the recipe.")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Run directory [default: runs/RECIPE].")
    ] = None,
    data_dir: Annotated[
        str | None,
        typer.Option(
            "--data-dir", help="Data directory [default: $UNPAIRED_DATA or ~/.cache/unpaired]."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a config field: key=value (repeatable; nested: train.lr=1e-3)."
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML file of config overrides.")
    ] = None,
    devices: Annotated[
        int,
        typer.Option("--devices", help="Devices (processes) per machine; >1 trains in parallel."),
    ] = 1,
    num_nodes: Annotated[
        int,
        typer.Option("--num-nodes", help="Machines; under torchrun or SLURM (see docs/ENGINE.md)."),
    ] = 1,
    strategy: Annotated[
        str,
        typer.Option("--strategy", help="ddp or fsdp, used when devices x nodes > 1."),
    ] = "ddp",
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    precision: Annotated[
        str, typer.Option("--precision", help="32-true, 64-true, bf16-mixed or 16-mixed (GPU).")
    ] = "32-true",
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the run in --out from its checkpoints.")
    ] = False,
    max_minutes: Annotated[
        float | None,
        typer.Option("--max-minutes", help="Time budget; stops cleanly with a checkpoint."),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    threads: Annotated[
        int | None,
        typer.Option(
            "--threads",
            help="torch intra-op threads [default: torch's choice]; 1 is fastest for small models.",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", help="At the end print one verdict line and the report's path."),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="At the end print the verdicts and metrics as JSON (for scripts)."
        ),
    ] = False,
) -> None:
    """Run a recipe: train its models and baselines, write a report into the run directory.

    Ends with the verdict of the recipe's claims (met / not met / n/a, with the numbers)
    and the path of the report; the full tables are in the report."""
    from unpaired.config import parse_assignments
    from unpaired.recipes.runner import run_recipe

    outcome = run_recipe(
        recipe,
        quick=quick,
        out=out_dir,
        data_dir_option=data_dir,
        overrides=parse_assignments(set_ or []),
        config_file=config,
        devices=devices,
        num_nodes=num_nodes,
        strategy=strategy,  # type: ignore[arg-type]
        seed=seed,
        precision=precision,  # type: ignore[arg-type]
        resume=resume,
        max_minutes=max_minutes,
        progress=progress and sys.stderr.isatty(),
        threads=threads,
    )
    if outcome.is_main:
        if as_json:
            _print_json(_outcome_json(outcome))
        else:
            _print_outcome(outcome, quiet=quiet)


def _outcome_json(outcome: Any) -> dict[str, Any]:
    """What ``--json`` prints of a run: its status, claim, verdicts, metrics, report."""
    import json

    metrics = json.loads((outcome.out / "metrics.json").read_text())
    return {
        "recipe": outcome.name,
        "status": outcome.status,
        "note": outcome.message,
        "claim": outcome.claim,
        "verdicts": [v.to_dict() for v in outcome.verdicts],
        "metrics": metrics.get("metrics", {}),
        "report": str(outcome.out / "report.html"),
    }


def _print_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def _print_outcome(outcome: Any, *, quiet: bool = False) -> None:
    """The end of a run: the verdict table (one line with ``quiet``), the report path."""
    from unpaired.recipes._claims import summarize

    if outcome.status != "completed":
        err.print(f"[yellow]stopped:[/yellow] {outcome.message}", soft_wrap=True)
    if quiet or not outcome.verdicts or outcome.view is None:
        out.print(f"{outcome.name}: {summarize(outcome.verdicts)}", soft_wrap=True)
    else:
        out.print(verdict_console_table(outcome.view))
    out.print(f"report: {outcome.out / 'report.html'}", soft_wrap=True)


def _console_table(title: str, columns: Sequence[str]) -> Table:
    """A table whose cells are plain text (``[mm]`` is not rich markup)."""
    table = Table(title=Text(title), title_justify="left", box=box.SIMPLE_HEAD)
    for i, c in enumerate(columns):
        # fold, never "…": a cell too wide for the terminal wraps onto more lines
        table.add_column(c, overflow="fold", min_width=None if i == 0 else min(len(c), 7))
    return table


def verdict_console_table(view: Any) -> Table:
    """One run's verdicts (a ``RunView``) for the terminal: claim, ours, goal, paper,
    verdict; wraps to the terminal's width, never cuts a cell."""
    from unpaired.recipes._claims import summarize
    from unpaired.report import fmt3

    table = _console_table(
        f"{view.name}: {summarize(view.verdicts)}", ["claim", "ours", "goal", "paper", "verdict"]
    )
    for v in view.verdicts:
        cells = [v.label, v.shown, v.goal]
        cells += ["" if v.paper is None else fmt3(v.paper), v.status]
        table.add_row(*(Text(c) for c in cells))
    return table


def demo_console_table(views: Sequence[Any]) -> Table:
    """The demo for the terminal: one row per recipe, its headline and verdict."""
    from unpaired.recipes._claims import summarize
    from unpaired.recipes._run_report import headline

    table = _console_table("unpaired demo", ["recipe", "headline", "verdict"])
    for v in views:
        status = summarize(v.verdicts) if v.status == "completed" else v.status
        table.add_row(*(Text(c) for c in (v.name, headline(v), status)))
    return table


@app.command("demo")
@_user_errors
def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Demo directory.")] = Path("runs/demo"),
    data_dir: Annotated[str | None, typer.Option("--data-dir", help="Data directory.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    threads: Annotated[
        int | None, typer.Option("--threads", help="torch intra-op threads.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="At the end print one verdict line per recipe.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="At the end print every recipe's verdicts as JSON.")
    ] = False,
) -> None:
    """Run every recipe that needs no downloaded data, in --quick mode, into one report.

    Ends with one row per recipe (its headline claim and verdict) and the path of the
    combined report, which opens with the same summary."""
    from unpaired.recipes._claims import summarize
    from unpaired.recipes.runner import run_demo

    outcomes = run_demo(
        out_dir, data_dir_option=data_dir, seed=seed, progress=sys.stderr.isatty(), threads=threads
    )
    if as_json:
        _print_json([_outcome_json(o) for o in outcomes])
        return
    for o in outcomes:
        if o.status != "completed":
            err.print(f"[yellow]{o.name} stopped:[/yellow] {o.message}", soft_wrap=True)
    if quiet:
        for o in outcomes:
            out.print(f"{o.name}: {summarize(o.verdicts)}", soft_wrap=True)
    else:
        out.print(demo_console_table([o.view for o in outcomes if o.view is not None]))
    out.print(f"report: {out_dir / 'report.html'} (and report.md)", soft_wrap=True)


@app.command("align")
@_user_errors
def align_cmd(
    source: Annotated[
        Path, typer.Argument(help="Source samples A: .npy, .npz (one array) or .csv, shape (N, D).")
    ],
    target: Annotated[
        Path, typer.Argument(help="Target samples B: same formats, shape (M, D), the same D.")
    ],
    distance: Annotated[
        str,
        typer.Option(
            "--distance",
            help=(
                "d(T(A), B): mean, coral, mmd, energy, sinkhorn, emd, sliced, adversarial "
                "(logistic critic), wgan-gp, dual-linear, dual-rbf, gaussian-lrmf, flow-lrmf "
                "(needs an invertible T: --transform flow or affine)."
            ),
        ),
    ],
    transform: Annotated[
        str,
        typer.Option(
            "--transform", help="Family of T, identity at the start: shift, affine, mlp or flow."
        ),
    ] = "affine",
    steps: Annotated[int, typer.Option("--steps", help="Training steps.")] = 1000,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Samples of each set per step.")
    ] = 256,
    lr: Annotated[float, typer.Option("--lr", help="Adam learning rate of T (and critic).")] = 2e-3,
    identity_weight: Annotated[
        float,
        typer.Option(
            "--identity-weight",
            help="R(T) = w * mean((T(a) - a)^2) in standardized units: keep T near the identity.",
        ),
    ] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Output folder (checkpoints, aligned.npy, metrics.json).")
    ] = Path("runs/align"),
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the alignment in --out from its checkpoint.")
    ] = False,
    warn_above: Annotated[
        float,
        typer.Option(
            "--warn-above",
            help="LRMF only: warn when the final log-likelihood ratio (nats) stays above this.",
        ),
    ] = 0.1,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
    threads: Annotated[
        int | None, typer.Option("--threads", help="torch intra-op threads [default: torch's].")
    ] = None,
    save_transform: Annotated[
        Path | None,
        typer.Option(
            "--save-transform",
            help="Also copy the learned T (OUT/models/align.pt) to this file, for "
            "`unpaired predict FILE NEW.npy`.",
        ),
    ] = None,
) -> None:
    """Learn T minimizing d(T(SOURCE), TARGET); write T(SOURCE) to OUT/aligned.npy.

    Also writes OUT/distance.png (the distance over training), OUT/metrics.json and
    OUT/models/align.pt (T, for `unpaired predict OUT NEW.npy`).
    Both sets are standardized together, T is learned in those units and applied in
    the original ones. Bad files or mismatched dimensions exit with code 2.
    """
    import torch

    from unpaired.recipes.align_files import align_files

    if threads is not None:
        if threads < 1:
            raise ConfigError(f"--threads must be >= 1, got {threads}")
        torch.set_num_threads(threads)
    result = align_files(
        source,
        target,
        out=out_dir,
        distance=distance,  # type: ignore[arg-type]
        transform=transform,  # type: ignore[arg-type]
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        identity_weight=identity_weight,
        seed=seed,
        warn_above=warn_above,
        resume=resume,
        progress=progress and sys.stderr.isatty(),
    )
    m = result.metrics
    start = "" if m["initial_distance"] is None else f"{m['initial_distance']:.4g} -> "
    out.print(
        f"{distance} ({transform} T, {m['steps']} steps): d(T(A), B) = {start}{m['final_distance']:.4g}"
    )
    if result.warning is not None:
        err.print(f"[yellow]WARNING:[/yellow] {result.warning}", soft_wrap=True)
    if save_transform is not None:
        import shutil

        from unpaired.engine.records import model_path

        save_transform.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(model_path(result.out, "align"), save_transform)
        out.print(f"transform: {save_transform}")
    out.print(f"aligned: {result.out / 'aligned.npy'}  metrics: {result.out / 'metrics.json'}")


@data_app.command("check")
@_user_errors
def data_check_cmd(
    data_dir: Annotated[
        str | None, typer.Option("--data-dir", help="Data directory to check.")
    ] = None,
    images: Annotated[
        Path | None,
        typer.Option(
            "--images",
            help="Check your own image folder instead: the CycleGAN layout "
            "(DIR/trainA, DIR/trainB, optional DIR/testA, DIR/testB) or the pix2pix "
            "aligned layout (DIR/train, val, test).",
        ),
    ] = None,
) -> None:
    """List every known dataset: found or missing, the files expected, where to get it."""
    from unpaired.data.catalog import DATASETS
    from unpaired.data.root import data_dir as resolve

    if images is not None:
        _check_image_root(images)
        return
    root = resolve(data_dir)
    out.print(f"data directory: {root}")
    table = Table("dataset", "status", "folder", "expected files", "how to obtain", show_lines=True)
    for ds in DATASETS:
        found = ds.found(root)
        status = (
            "[green]found[/green]"
            if found
            else (
                "[yellow]missing[/yellow] (bring your own)"
                if ds.bring_your_own
                else "[red]missing[/red]"
            )
        )
        expected = ds.expected if found else tuple(ds.missing(root))
        table.add_row(ds.name, status, ds.folder + "/", "\n".join(expected), ds.obtain)
    out.print(table)
    out.print(
        "your own images (unpaired run cyclegan --set data.root=DIR): "
        "`unpaired data check --images DIR` checks DIR/trainA, DIR/trainB "
        "(+ optional testA, testB), or the pix2pix layout DIR/train, val, test",
        soft_wrap=True,
    )


def _check_image_root(root: Path) -> None:
    """Print what an image dataset root holds; one error line (exit 2) if unusable."""
    from unpaired.data.images import ALIGNED_LAYOUT, CYCLEGAN_LAYOUT, inspect_image_root
    from unpaired.errors import DataError

    layout, reports = inspect_image_root(root)
    explain = ALIGNED_LAYOUT if layout == "aligned" else CYCLEGAN_LAYOUT
    out.print(f"image folder: {root} (layout: {layout})")
    table = Table("folder", "status", "images", "sizes (HxW)", "modes", show_lines=True)
    for r in reports:
        if r.problem:
            status = f"[red]{'missing' if r.problem == 'missing' else 'error'}[/red]"
        elif r.images is None:
            status = "[yellow]absent[/yellow] (optional)"
        else:
            status = "[green]ok[/green]"
        count = "" if r.images is None else str(r.images)
        table.add_row(r.name + "/", status, count, r.sizes, r.modes)
    out.print(table)
    out.print(explain, soft_wrap=True)
    bad = [r for r in reports if r.problem]
    if bad:
        first = bad[0]
        what = f"{root / first.name} is missing" if first.problem == "missing" else first.problem
        raise DataError(f"{what}; expected the {explain}")


@data_app.command("inspect")
@_user_errors
def data_inspect_cmd(
    file: Annotated[Path, typer.Argument(help="A motion file: .bvh, .c3d or .amc.")],
    units: Annotated[
        str, typer.Option("--units", help="One file unit: auto, m, cm, mm, in or cmu.")
    ] = "auto",
    up: Annotated[
        str, typer.Option("--up", help="The file's up axis: auto, y, z, -y, -z, x or -x.")
    ] = "auto",
    joint_map: Annotated[
        Path | None, typer.Option("--joint-map", help="YAML joint map (docs/POSE.md).")
    ] = None,
    asf: Annotated[
        Path | None, typer.Option("--asf", help="The ASF skeleton of an .amc file.")
    ] = None,
    png: Annotated[
        Path | None,
        typer.Option("--png", help="Skeleton figure [default: ./<file stem>_skeleton.png]."),
    ] = None,
) -> None:
    """Show how a motion file is read: rig, frames, fps, unit, up axis, the joint of the file
    behind each of our 17 joints, the joints synthesised; draw the first frame to a PNG.

    Exits with code 2 (after the report) when the skeleton cannot be mapped."""
    from unpaired.data.mocap import BVH_UNITS, load_motion
    from unpaired.data.rigs import UP_ROTATIONS
    from unpaired.viz.skeleton import plot_pose_3d

    if units not in ("auto", *BVH_UNITS):
        raise ConfigError(f"--units must be auto or one of {', '.join(BVH_UNITS)}, got {units!r}")
    if up not in ("auto", *UP_ROTATIONS):
        raise ConfigError(f"--up must be auto or one of {', '.join(UP_ROTATIONS)}, got {up!r}")
    motion = load_motion(
        file,
        fps=None,
        units=units,
        up=up,
        joint_map=joint_map,
        asf=asf,  # type: ignore[arg-type]
    )
    info = motion.info
    assert info is not None
    seconds = len(motion.positions) / motion.fps if motion.fps else 0.0
    out.print(f"file: {file}", soft_wrap=True)
    out.print(
        f"format: {info.format}    rig: {info.rig}    joints: {len(motion.joint_names)}",
        soft_wrap=True,
    )
    out.print(
        f"frames: {len(motion.positions)} at {motion.fps:g} fps ({seconds:.2f} s)", soft_wrap=True
    )
    height = f"; standing height {info.height_m:.2f} m" if info.height_m is not None else ""
    out.print(
        f"unit: {info.unit} = {info.metres_per_unit:.6g} m ({info.unit_source}){height}",
        soft_wrap=True,
    )
    out.print(
        f"up axis: {info.up} ({info.up_source}); positions are turned to y up", soft_wrap=True
    )
    for note in info.notes:
        err.print(f"[yellow]note:[/yellow] {note}", soft_wrap=True)
    if info.mapping is not None:
        table = Table("our joint", "from the file", box=None, pad_edge=False)
        for ours, words in info.mapping.table():
            table.add_row(ours, words)
        out.print(table)
        synthesised = info.synthesised
        out.print(
            "synthesised: "
            + ("; ".join(f"{k} ({v})" for k, v in synthesised.items()) if synthesised else "none"),
            soft_wrap=True,
        )
    pose = motion.to_h36m17()[0] if info.mapping is not None and len(motion.positions) else None
    rig = motion.positions[0] if len(motion.positions) else None
    if pose is not None or rig is not None:
        target = png or Path(f"{Path(file).stem}_skeleton.png")
        plot_pose_3d(
            target,
            pose,
            rig=rig,
            rig_parents=motion.parents,
            title=f"{Path(file).name}: first frame ({info.rig})",
        )
        out.print(f"skeleton of the first frame: {target}")
    if info.mapping is None:
        err.print(f"[red]error:[/red] {info.mapping_error}", soft_wrap=True)
        raise typer.Exit(2)


@app.command("predict")
@_user_errors
def predict_cmd(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory (or one of its models/*.pt files).")
    ],
    source: Annotated[
        Path,
        typer.Argument(
            help="Input: keypoints (.npy/.npz/.csv/COCO .json), an image or image folder, "
            "samples (.npy/.npz/.csv), or frames (folder, TUM or KITTI sequence)."
        ),
    ],
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="Model of the run [default: its only one]; see `unpaired runs`."
        ),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder (new or empty).")] = Path(
        "predictions"
    ),
    network: Annotated[
        str | None, typer.Option("--network", help="Network of the model [default: its first].")
    ] = None,
    device: Annotated[str, typer.Option("--device", help="cpu, cuda, cuda:1, ...")] = "cpu",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Inputs per forward pass.")] = 256,
    figures: Annotated[
        int, typer.Option("--figures", help="Pose models: skeleton PNGs of this many frames.")
    ] = 4,
    sequence_format: Annotated[
        str, typer.Option("--format", help="SfM input: auto, folder, tum, kitti or vkitti.")
    ] = "auto",
    guide: Annotated[
        Path | None,
        typer.Option(
            "--guide",
            help="Guided translators: one guide image for all inputs, or a folder paired "
            "with the inputs by name (else by sorted order).",
        ),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
) -> None:
    """Apply a trained model to your own files; write OUT whole or not at all.

    Pose lifters write OUT/poses.npy (T, 17, 3) and skeleton PNGs; image models PNGs of
    the same names (guided translators with --guide); alignment transforms
    OUT/aligned.npy; SfM models per-frame depth (.npy and PNG) and OUT/trajectory.txt
    (TUM format). Bad input exits with code 2.
    """
    from unpaired.engine.records import load
    from unpaired.errors import DataError
    from unpaired.inference import predict_files

    loaded = load(run_dir, model)
    kind = loaded.kinds[loaded.select(network)]
    options: dict[str, Any] = {"figures": figures}
    if kind == "sfm":
        options = {"sequence_format": sequence_format}
    if guide is not None and kind != "guided":
        raise DataError(f"--guide is for guided translators; this network is of kind '{kind}'")
    if kind == "guided":
        options = {"guide": guide}
    summary = predict_files(
        loaded,
        source,
        out_dir,
        network=network,
        batch_size=batch_size,
        device=device,
        progress=progress and sys.stderr.isatty(),
        **options,
    )
    counts = ", ".join(f"{v} {k}" for k, v in summary.items() if isinstance(v, int))
    out.print(f"{summary['model']} ({summary['kind']}): {counts} -> {out_dir}")


@app.command("export")
@_user_errors
def export_cmd(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory (or one of its models/*.pt files).")
    ],
    out_file: Annotated[Path, typer.Argument(help="The file to write (.pt or .onnx).")],
    model: Annotated[
        str | None, typer.Option("--model", help="Model of the run [default: its only one].")
    ] = None,
    network: Annotated[
        str | None, typer.Option("--network", help="Network of the model [default: its first].")
    ] = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format", help="torchscript, or onnx (needs: pip install 'unpaired[onnx]')."
        ),
    ] = "torchscript",
) -> None:
    """Export one trained network as a self-contained TorchScript or ONNX file.

    The file takes and returns plain tensors in the units of `unpaired predict`
    (see docs/USE.md); TorchScript loads with torch.jit.load, without unpaired.
    """
    from unpaired.engine.records import load
    from unpaired.inference.export import export_model

    loaded = load(run_dir, model)
    path = export_model(loaded, out_file, format=format_, network=network)  # type: ignore[arg-type]
    out.print(f"{loaded.name} ({loaded.kinds[loaded.select(network)]}) -> {path} ({format_})")


def _fmt_metric(v: float | None) -> str:
    return "" if v is None else f"{v:.4g}"


@app.command("runs")
@_user_errors
def runs_cmd(
    args: Annotated[
        list[str] | None,
        typer.Argument(help="DIR (default: runs), or: compare RUN_A RUN_B."),
    ] = None,
    metrics: Annotated[int, typer.Option("--metrics", help="Headline metrics shown per run.")] = 3,
) -> None:
    """List the runs under DIR (recipe, date, models, headline metrics, status), or
    compare two runs' metrics side by side (`unpaired runs compare A B`)."""
    from unpaired.inference.runs import compare_runs, find_runs

    words = list(args or [])
    if words and words[0] == "compare":
        if len(words) != 3:
            raise ConfigError("usage: unpaired runs compare RUN_A RUN_B")
        table = Table("metric", words[1], words[2], "B - A", box=None, pad_edge=False)
        for name, a, b in compare_runs(words[1], words[2]):
            diff = None if a is None or b is None else b - a
            table.add_row(name, _fmt_metric(a), _fmt_metric(b), _fmt_metric(diff))
        out.print(table)
        return
    if len(words) > 1:
        raise ConfigError("usage: unpaired runs [DIR] | unpaired runs compare RUN_A RUN_B")
    root = Path(words[0]) if words else Path("runs")
    runs = find_runs(root)
    if not runs:
        out.print(f"no runs under {root}")
        return
    table = Table(
        "run", "recipe", "date (UTC)", "status", "models", "metrics", box=None, pad_edge=False
    )
    for r in runs:
        shown = list(r.metrics.items())[:metrics]
        table.add_row(
            str(r.path),
            r.recipe,
            r.date,
            r.status,
            str(len(r.models)) if len(r.models) > 3 else ", ".join(r.models),
            "; ".join(f"{k}={v:.4g}" for k, v in shown),
        )
    out.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
