"""Capability tables of the PyNN backend, as data: construct -> native / emulated (how) /
unsupported (why), one table per simulator.

Keys are those of ``neuromorph.capabilities.required_constructs`` plus a few this backend derives
itself (``extra_constructs``), so ``build`` refuses what a simulator cannot run with the reason,
and the parity suite skips with the same reason. Facts come from simulators.md (NEST 3.10 via
PyNN 0.13, sPyNNaker 7.4.1) and from reading PyNN 0.13's brian2 module.
"""
from __future__ import annotations

from neuromorph.capabilities import Capability, emulated, native, unsupported

from .variants import Variant, variant_for

#: constructs this backend derives from a network on top of required_constructs()
EXTRA_KEYS = ("spike at t=dt", "STDP:A_plus=0", "STDP:tau_minus differs onto one population",
              "STDP:rules differ onto one population", "STDP:dt!=1ms", "synaptic row over the limit")

_SHARED = {
    "OneToOne": native("resolved by neuromorph into one FromListConnector list (same pairs on every backend)"),
    "AllToAll": native("resolved by neuromorph into one FromListConnector list"),
    "FromList": native("FromListConnector with per-connection weights and delays"),
    "FixedProbability": native("pairs drawn by neuromorph from the network seed, handed over as one FromListConnector list"),
    "FixedNumberPre": native("resolved by neuromorph into one FromListConnector list (pairs drawn from the network seed; repeated pairs are separate synapses)"),
    "FixedNumberPost": native("resolved by neuromorph into one FromListConnector list (pairs drawn from the network seed; repeated pairs are separate synapses)"),
    "FixedTotalNumber": native("resolved by neuromorph into one FromListConnector list (pairs drawn from the network seed; repeated pairs are separate synapses)"),
    "DistanceDependentProbability": native("pairs drawn by neuromorph from the populations' positions (their structures) as PyNN draws them (one uniform per pair from RandomState(seed), post by post), handed over as one FromListConnector list"),
    "heterogeneous delays": native("per-connection delays in the connection list"),
    "record:spikes": native("Population.record('spikes'), read back through Neo"),
    "record:v": native("Population.record('v') every dt (or every k·dt); PyNN's initial sample is row 0, the sample at the end of the run is dropped"),
    "spike at t=dt": native("as given"),
    "batch>1": unsupported("a PyNN simulator holds one network per process; run the trials one after another or use backend='torch' (batch=...)"),
    "STDP:A_plus=0": native("as given"),
    "STDP:tau_minus differs onto one population": native("tau_minus is a synapse parameter"),
    "STDP:rules differ onto one population": native("each projection has its own rule"),
    "STDP:dt!=1ms": native("any dt"),
    "synaptic row over the limit": native("no row limit"),
}

NEST = dict(_SHARED, **{
    "IF_curr_exp": native("iaf_psc_exp with spike_precision='on_grid' (PyNN's default would pick iaf_psc_exp_ps)"),
    "IF_curr_delta(weight_units=mV)": native("iaf_psc_delta: V jumps by the weight in mV (PyNN 0.13's missing variable_map for 'v' is added)"),
    "IF_curr_delta(weight_units=nA)": emulated("iaf_psc_delta with each weight converted to the jump it causes on sPyNNaker, R·(1−exp(−dt/τm))·w/dt mV; input during refractoriness is lost on both"),
    "IF_curr_alpha": native("iaf_psc_alpha (exact integration, IAFPropagatorAlpha); PyNN 0.13 omits isyn_exc/isyn_inh from its recordables, neuromorph adds them (I_syn_ex / I_syn_in)"),
    "Izhikevich": native("izhikevich with consistent_integration=True (forward Euler of v and u), V_th = 30 mV; weights are voltage jumps in mV (PyNN multiplies by 1000, then by its receptor_scale 1e-3, so a weight can change in the last bit: 0.7 → 0.7000000000000001); i_offset becomes I_e in pA, which NEST's equation reads as mV/ms"),
    "IF_cond_exp": native("iaf_cond_exp: GSL's adaptive RKF45 (eps_abs 1e-3, step size carried between steps), V clamped to V_th inside the right-hand side and held at V_reset while refractory; weights are conductances in µS (PyNN: ×1000 → nS; inhibitory ones handed to NEST negated, its receptor routing is by sign)"),
    "IF_cond_alpha": native("iaf_cond_alpha: as IF_cond_exp (GSL's adaptive RKF45, eps_abs 1e-3, step size carried between steps; V clamped to V_th in the right-hand side, held at V_reset while refractory) with alpha conductances (dg += e/τ_syn·w, g peaks at w after τ_syn)"),
    "EIF_cond_exp_isfa_ista": native("aeif_cond_exp: GSL's adaptive RKF45 (control yp, gsl_error_tol 1e-6, step size carried between steps), V bounded at V_peak in the right-hand side, spike detected after every accepted sub-step (V_reset, w += b), V held at V_reset while refractory; weights are conductances in µS as for IF_cond_exp; a, b, w in nS, nA (PyNN: b, w ×1000 → pA); an initial w != 0 is refused (PyNN 0.13 passes it to NEST unscaled)"),
    "EIF_cond_alpha_isfa_ista": native("aeif_cond_alpha: as EIF_cond_exp_isfa_ista (GSL's adaptive RKF45 under the yp control, spike check after every accepted sub-step) with alpha conductances (dg += e/τ_syn·w, g peaks at w after τ_syn); an initial w != 0 is refused"),
    "SpikeSourceArray": native("spike_generator → parrot_neuron (PyNN); a spike at t reaches the target after its delay as on every NEST neuron"),
    "spike at t=0": unsupported("NEST cannot emit a SpikeSourceArray spike at t=0 (PyNN hands it to spike_generator at t−min_delay < 0 and NEST drops it silently); move it to t ≥ dt"),
    "spike at t=dt": unsupported("PyNN hands SpikeSourceArray spikes to NEST's spike_generator one min_delay (= dt) early and NEST refuses a generator spike at t=0, so the earliest source spike is 2·dt; shift the input by one step"),
    "SpikeSourcePoisson": native("poisson_generator → parrot_neuron seeded from the network seed; Poisson counts per step, statistically (not spike-for-spike) equal to the torch backend's draws"),
    "STDP:SpikePairRule": native("STDPMechanism(SpikePairRule) → stdp_synapse: whole delay dendritic, LTP for t_post+d > t_pre, no LTD at t_post+d = t_pre (the spinnaker profile depresses there), weights change only at pre spikes"),
    "STDP:SpikeNearestPairRule": native("NEST stdp_nn_symm_synapse through pyNN.nest.native_synapse_type: every post in the window pairs with the nearest pre, each pre with the nearest earlier post"),
    "STDP:AdditiveWeightDependence": native("mu± = 0; step='absolute' A± are divided by w_max because NEST (and PyNN's standard) step is A±·w_max"),
    "STDP:MultiplicativeWeightDependence": native("mu± = 1: Δw+ = A+(w_max−w)K+, Δw− = A−·w·K−"),
    "STDP:w_min>0": unsupported("NEST's stdp_synapse has no lower weight bound (it clips at 0; PyNN raises 'Non-zero minimum weight is not supported by NEST'); use w_min=0 or backend='pynn:spinnaker'/'torch'"),
    "STDP:negative amplitude": native("NEST lambda/alpha may be negative; facilitation clips at w_max only and depression at 0 only"),
    "STDP:inhibitory": emulated("weight and w_max negated for NEST (current synapses route by sign); read back as magnitudes"),
    "STDP:A_plus=0": unsupported("NEST scales depression by A_plus (Δw− = w_max·λ·α·K with λ = A_plus), so A_plus=0 switches depression off; use a tiny A_plus or backend='torch'"),
    "STDP:tau_minus differs onto one population": unsupported("NEST keeps tau_minus on the post-synaptic neuron, so every STDP projection onto one population must share it"),
    "Vogels2011": native("NEST vogels_sprekeler_synapse through pyNN.nest.native_synapse_type (PyNN 0.13's nest backend has no Vogels2011Rule): tau, eta (weight units ×1000 for currents), alpha = 2·rho·tau, Wmax = w_max; tau_minus = tau set on the post cells as PyNN does; w_min must be 0 (NEST clips at 0)"),
    "TsodyksMarkram": native("PyNN TsodyksMarkramSynapse → tsodyks_synapse (weights ×1000, tau_psc copied from the post cell's tau_syn_E/I, initial u = 0, x = 1, y = 0); refused onto cells without tau_syn (IF_curr_delta, Izhikevich) and where tau_rec equals that tau_syn"),
    "record:isyn_exc": native("I_syn_ex (pA) × 0.001, state after each step"),
    "record:isyn_inh": native("I_syn_in (pA) × −0.001 (NEST stores it negative; neuromorph reports magnitudes)"),
    "record:u": native("Izhikevich U_m (mV/ms), state after each step"),
    "record:gsyn_exc": native("g_ex (nS) × 0.001 (µS), state after each step"),
    "record:gsyn_inh": native("g_in (nS) × 0.001 (µS), state after each step (stored positive)"),
    "record:w": native("aeif_cond_exp w (pA) × 0.001 (nA), state after each step"),
    "record:weights": emulated("the host reads the weights from NEST between run chunks of k steps"),
})

BRIAN2 = dict(_SHARED, **{
    "IF_curr_exp": native("Brian2 'exact' linear integration (numpy code generation by default); a spike is stamped at the start of its step, one dt earlier than NEST, and a SpikeSourceArray spike reaches the target one step later than on NEST"),
    "IF_curr_delta(weight_units=mV)": native("V jumps by the weight in mV"),
    "IF_curr_delta(weight_units=nA)": emulated("weight converted to the jump R·(1−exp(−dt/τm))·w/dt mV"),
    "IF_curr_alpha": native("PyNN's alpha-current equations with Brian2 'exact' linear integration (neuromorph fixes PyNN 0.13's inhibitory alpha current, which ran on tau_syn_E instead of tau_syn_I); spike stamps and source delivery as for IF_curr_exp"),
    "Izhikevich": native("PyNN's Izhikevich equations with Brian2's forward Euler (its default state updater for these non-linear equations): the same v, u trajectory as NEST's izhikevich to ~1e-13 under constant current (i_offset/pF: 1 nA = 1000 mV/ms as on NEST), threshold v ≥ 30 mV, weights are jumps of v in mV; a spike is stamped one dt earlier and a source spike's jump lands one step later than on NEST (checked)"),
    "IF_cond_exp": native("PyNN's conductance-based equations with Brian2's forward Euler (PyNN's method list exact/euler/heun; the equations are not linear, so Brian2 picks euler), not NEST's adaptive RKF45: first order in dt, so V drifts from NEST's and spike times with it (checked at dt = 0.1 ms: a DC-driven cell fires at 14.2/38.6/63.0/87.4 ms against NEST's 14.4/39.0/63.6/88.2 ms); spike stamps and source delivery as for IF_curr_exp"),
    "IF_cond_alpha": native("PyNN's alpha-conductance equations with Brian2's forward Euler (not linear, so Brian2 picks euler), not NEST's adaptive RKF45: first order in dt, so V drifts from NEST's and spike times with it (checked at dt = 0.1 ms: i_offset = 1 nA plus inputs fires at 25.0/53.2/82.8 ms against NEST's 25.1/53.5/83.3 ms); spike stamps and source delivery as for IF_curr_exp"),
    "EIF_cond_exp_isfa_ista": native("PyNN's AdEx equations with Brian2's rk2 (PyNN's choice; no bound on V in the right-hand side), not NEST's adaptive RKF45, so V drifts from NEST's and spike times with it (checked at dt = 0.1 ms, b = 0.2 nA, i_offset = 1 nA: 11.7/30.8/62.3/118.9/188.9 ms against NEST's 11.8/31.0/62.5/118.9/188.8 ms; spike stamps as for IF_curr_exp); neuromorph puts the threshold at v >= v_spike (PyNN 0.13's Brian2 group fires at v > v_thresh + 5·delta_T and ignores v_spike); reset v_reset, w += b; an initial w != 0 is refused"),
    "EIF_cond_alpha_isfa_ista": native("PyNN's AdEx equations with alpha conductances and Brian2's rk2, not NEST's adaptive RKF45 (spike times drift from NEST's as for EIF_cond_exp_isfa_ista); neuromorph puts the threshold at v >= v_spike (PyNN 0.13's Brian2 group fires at v > v_thresh + 5·delta_T); an initial w != 0 is refused"),
    "SpikeSourceArray": native("SpikeGeneratorGroup on the network clock (PyNN leaves it on Brian2's 0.1 ms default clock; neuromorph sets defaultclock.dt = dt)"),
    "spike at t=0": native("SpikeGeneratorGroup emits at t=0"),
    "SpikeSourcePoisson": native("PoissonGroup-like threshold group with Brian2's RNG (statistical equivalence only)"),
    "AllToAll": native("one FromListConnector list; PyNN 0.13's brian2 projection sets every synapse in a Python loop, so large projections build slowly (about 0.75 ms per synapse: 45 s for the 60,000 synapses of a 1,000-neuron E/I network)"),
    "STDP:SpikePairRule": native("STDPMechanism with dendritic_delay_fraction=0 (PyNN's brian2 backend supports axonal delays only): Δt measured from the pre spike's arrival, LTP applied at the post spike — conventions differ from NEST and sPyNNaker"),
    "STDP:SpikeNearestPairRule": unsupported("PyNN 0.13's brian2 backend has no nearest-pair timing rule; use backend='pynn:nest' (stdp_nn_symm_synapse) or 'torch'"),
    "STDP:AdditiveWeightDependence": native("PyNN standard step A±·w_max; step='absolute' A± divided by w_max"),
    "STDP:MultiplicativeWeightDependence": unsupported("PyNN 0.13's brian2 STDPMechanism has one set of equations, the additive ones, whatever the weight dependence (checked: a multiplicative rule ends exactly where additive with step A±·w_max does); use backend='pynn:nest' or 'torch'"),
    "STDP:w_min>0": native("Brian2 clips at w_min after depression"),
    "STDP:negative amplitude": native("as given to the traces; one-sided clipping as in PyNN's equations"),
    "STDP:inhibitory": unsupported("PyNN's brian2 STDP clips the signed weight at w_min ≥ 0 at every pre spike, and inhibitory current synapses carry negative weights there: the first pre spike sets the weight to 0 and potentiation then makes the synapse excitatory"),
    "Vogels2011": unsupported("PyNN 0.13's brian2 backend has no Vogels2011Rule (only pyNN.neuron has one); use backend='pynn:nest' or 'torch' (numerics='exact')"),
    "TsodyksMarkram": unsupported("PyNN 0.13's brian2 TsodyksMarkramSynapse is not NEST's tsodyks_synapse (read in pyNN/brian2/standardmodels/synapses.py: u is capped at U after every spike, so nothing facilitates); use backend='pynn:nest' or 'torch'"),
    "record:isyn_exc": native("Brian2 variable ie (PyNN's translations know it; neuromorph adds it to the recordables)"),
    "record:isyn_inh": native("Brian2 variable ii × −1 (stored negative; neuromorph reports magnitudes)"),
    "record:u": native("Brian2 variable u (mV/ms)"),
    "record:gsyn_exc": native("Brian2 variable ge (µS)"),
    "record:gsyn_inh": native("Brian2 variable gi (µS, positive)"),
    "record:w": native("Brian2 variable w (nA)"),
    "record:weights": emulated("the host reads the weights between run chunks of k steps"),
})

SPINNAKER = dict(_SHARED, **{
    "IF_curr_exp": native("sPyNNaker IF_curr_exp, s16.15 fixed point on the board; on a virtual board (no board configured) the network is mapped and placed but nothing runs"),
    "IF_curr_delta(weight_units=nA)": native("sPyNNaker IF_curr_delta: the weight is a current held for one tick"),
    "IF_curr_delta(weight_units=mV)": emulated("weight converted to the current that gives that jump, w·dt / (R·(1−exp(−dt/τm))) nA"),
    "IF_curr_alpha": native("sPyNNaker IF_curr_alpha (LIF with its alpha synapse type, s16.15 fixed point on the board); its per-tick alpha update is sPyNNaker's own and no torch lowering reproduces it (numerics='exact' follows NEST's iaf_psc_alpha)"),
    "Izhikevich": unsupported("sPyNNaker's Izhikevich is IZK_curr_exp: exponentially decaying current synapses (weights in nA, tau_syn_E/I), not PyNN's and NEST's voltage-jump synapses, so the description's mV weights have no equivalent; use backend='pynn:nest' or 'torch'"),
    "IF_cond_exp": native("sPyNNaker IF_cond_exp (LIF with conductance input, s16.15 fixed point on the board, weights in µS under its conductance weight scale); its per-tick update is sPyNNaker's own and no torch lowering reproduces it (numerics='exact' follows NEST's iaf_cond_exp); on a virtual board nothing runs"),
    "IF_cond_alpha": unsupported("sPyNNaker 7.4.1 ships no IF_cond_alpha build (its alpha synapse type comes with current input only, IF_curr_alpha); use IF_cond_exp there, or backend='pynn:nest' / 'torch' (numerics='exact')"),
    "EIF_cond_exp_isfa_ista": unsupported("sPyNNaker 7.4.1 has no adaptive exponential (AdEx) neuron model: its cell types are LIF (IF_curr_exp/alpha/delta, IF_cond_exp and the extra_models variants) and Izhikevich; use backend='pynn:nest' or 'torch' (numerics='exact')"),
    "EIF_cond_alpha_isfa_ista": unsupported("sPyNNaker 7.4.1 has no adaptive exponential (AdEx) neuron model (see EIF_cond_exp_isfa_ista); use backend='pynn:nest' or 'torch' (numerics='exact')"),
    "SpikeSourceArray": native("sPyNNaker SpikeSourceArray"),
    "spike at t=0": native("tick 0"),
    "SpikeSourcePoisson": native("on-board Poisson source (board RNG)"),
    "STDP:SpikePairRule": native("sPyNNaker pair rule: whole delay dendritic, LTD also at t_post+d = t_pre, 16 post spikes kept per neuron, LUT exponentials"),
    "STDP:SpikeNearestPairRule": native("sPyNNaker extra_models.SpikeNearestPairRule"),
    "STDP:AdditiveWeightDependence": native("sPyNNaker step is A± in weight units; step='times_w_max' A± multiplied by w_max"),
    "STDP:MultiplicativeWeightDependence": native("Δw+ = A+(w_max−w)K, Δw− = A−(w−w_min)K"),
    "STDP:w_min>0": native("clipped after each term"),
    "STDP:negative amplitude": native("A± written as signed s16.15"),
    "STDP:inhibitory": native("magnitudes on the inhibitory synapse type"),
    "STDP:rules differ onto one population": unsupported("sPyNNaker needs one synapse dynamics per post population (all STDP projections onto it must share timing rule and weight dependence)"),
    "STDP:dt!=1ms": unsupported("sPyNNaker's STDP runs at dt = 1 ms only; use Network(dt=1.0)"),
    "synaptic row over the limit": unsupported("sPyNNaker 7.4.1 holds at most 256 static / 254 plastic synapses per row (one pre neuron onto one core); refused before mapping: pass neurons_per_core= at most the limit"),
    "Vogels2011": native("sPyNNaker extra_models.Vogels2011Rule(alpha = 2·rho·tau, tau, A_plus = A_minus = eta) with AdditiveWeightDependence(w_min, w_max); its kernel ships as a binary only, so parity with NEST is not checked"),
    "TsodyksMarkram": unsupported("sPyNNaker 7.4.1 has no Tsodyks–Markram (short-term plasticity) synapse dynamics for its cells; use backend='pynn:nest' or 'torch'"),
    "record:spikes": native("recorded on the board; a virtual board returns no spikes (a mapping check only)"),
    "record:v": native("recorded on the board (s16.15); empty on a virtual board"),
    "record:isyn_exc": native("recorded on the board; empty on a virtual board"),
    "record:isyn_inh": native("recorded on the board; empty on a virtual board"),
    "record:u": unsupported("only Izhikevich has u, and it does not run on pynn:spinnaker (see Izhikevich)"),
    "record:gsyn_exc": native("IF_cond_exp conductance (µS), recorded on the board; empty on a virtual board"),
    "record:gsyn_inh": native("IF_cond_exp conductance (µS), recorded on the board; empty on a virtual board"),
    "record:w": unsupported("only EIF_cond_exp_isfa_ista has w, and sPyNNaker 7.4.1 has no AdEx model (see EIF_cond_exp_isfa_ista)"),
    "record:weights": emulated("the host reads the weights between run segments of k steps (each read pauses the board)"),
})

TABLES = {"nest": NEST, "brian2": BRIAN2, "spinnaker": SPINNAKER}


def capabilities(variant: str | Variant | None = None, numerics: str | None = None) -> dict[str, Capability]:
    """The capability table of one PyNN simulator (``"nest"`` by default, or a backend name such
    as ``"pynn:brian2"``). ``numerics`` other than the simulator's own marks every construct
    unsupported with the reason: a simulator computes what it computes."""
    from neuromorph.mechanisms import mechanism_capabilities
    v = variant if isinstance(variant, Variant) else variant_for(variant)
    table = dict(TABLES[v.name])
    table.update(mechanism_capabilities(f"pynn:{v.name}"))  # host-in-the-loop homeostasis etc. (homeostasis.py)
    if numerics is not None and numerics != v.numerics:
        why = (f"pynn:{v.name} computes the {v.numerics!r} semantics, not numerics={numerics!r}; "
               f"use backend='torch' with numerics={numerics!r}")
        table = {k: unsupported(why) for k in table}
    return table


def extra_constructs(net) -> list[str]:
    """Keys of EXTRA_KEYS that a network needs (PyNN-specific; see the tables)."""
    need = []
    for pop in net.populations.values():
        times = getattr(pop.celltype, "spike_times", None)
        if times and any(abs(t - net.dt) < 1e-9 * net.dt for row in times for t in row[:2]):
            need.append("spike at t=dt")
    plastic_onto: dict[str, list] = {}
    for proj in net.projections.values():
        st = proj.plasticity
        if st is None or type(st).__name__ not in ("STDP", "Vogels2011"):
            continue
        if type(st).__name__ == "STDP" and st.timing.A_plus == 0 and st.timing.A_minus != 0:
            need.append("STDP:A_plus=0")
        plastic_onto.setdefault(proj.post, []).append(st)
        if abs(net.dt - 1.0) > 1e-12:
            need.append("STDP:dt!=1ms")
    if _rows_over_limit(net):
        need.append("synaptic row over the limit")
    for rules in plastic_onto.values():
        # Vogels2011 sets the post cells' tau_minus to its tau (pyNN.nest's native synapse)
        if len({getattr(r, "tau", None) or r.timing.tau_minus for r in rules}) > 1:
            need.append("STDP:tau_minus differs onto one population")
        if len({(type(r), r) if type(r).__name__ != "STDP" else
                (type(r.timing), type(r.weight), r.timing, r.weight) for r in rules}) > 1:
            need.append("STDP:rules differ onto one population")
    return list(dict.fromkeys(need))


def _rows_over_limit(net, neurons_per_core: int | None = None) -> bool:
    from neuromorph.hardware.limits import preflight
    report = preflight(net, "SpiNN-5", neurons_per_core=neurons_per_core, raise_errors=False)
    return any(not row.ok for row in report.rows)
