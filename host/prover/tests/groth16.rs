//! Groth16 through Offload against ark-groth16 itself: the same proof byte for byte with the
//! same (r, s), accepted by ark-groth16's verifier (and refused with a wrong public input), in
//! process on both curves and through a started daemon.

use ark_ec::pairing::Pairing;
use ark_ff::{UniformRand, Zero};
use ark_groth16::{prepare_verifying_key, Groth16, ProvingKey};
use ark_serialize::CanonicalSerialize;
use offload_prover::circuits::PoseidonChain;
use offload_prover::groth16::{prove, LoadedKey, ProverPairing};
use offload_prover::Offload;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn bytes<T: CanonicalSerialize>(t: &T) -> Vec<u8> {
    let mut v = Vec::new();
    t.serialize_compressed(&mut v).expect("serializes");
    v
}

/// A key for a chain of about `constraints` constraints, from ark-groth16's own setup.
fn setup<E: ProverPairing>(
    constraints: usize,
    seed: u64,
) -> (PoseidonChain<E::ScalarField>, ProvingKey<E>)
where
    E::ScalarField: ark_crypto_primitives::sponge::Absorb,
{
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let chain = PoseidonChain::with_constraints(E::ScalarField::rand(&mut rng), constraints);
    let pk = Groth16::<E>::generate_random_parameters_with_reduction(chain.clone(), &mut rng)
        .expect("setup");
    (chain, pk)
}

fn proves_as_ark_does<E: ProverPairing>(offload: &Offload, constraints: usize, seed: u64)
where
    E::ScalarField: ark_crypto_primitives::sponge::Absorb,
{
    let (chain, pk) = setup::<E>(constraints, seed);
    let plain = LoadedKey::load(offload, pk.clone()).expect("the key loads");
    // The same key told the circuit's shape: proofs then synthesize the witness only.
    let shaped = LoadedKey::load(offload, pk.clone())
        .and_then(|k| k.with_matrices_of(chain.clone()))
        .expect("the key loads");
    let pvk = prepare_verifying_key(&pk.vk);
    let inputs = chain.public_inputs();
    let mut rng = ChaCha20Rng::seed_from_u64(seed + 1);
    // Random (r, s), and r = 0 (no B in G1), and both zero (no zero knowledge).
    let rs = [
        (
            E::ScalarField::rand(&mut rng),
            E::ScalarField::rand(&mut rng),
        ),
        (E::ScalarField::zero(), E::ScalarField::rand(&mut rng)),
        (E::ScalarField::zero(), E::ScalarField::zero()),
    ];
    for (key, (r, s)) in [&plain, &shaped, &shaped].into_iter().zip(rs) {
        let ours = prove(offload, key, chain.clone(), r, s).expect("proves");
        let theirs =
            Groth16::<E>::create_proof_with_reduction(chain.clone(), &pk, r, s).expect("ark");
        assert_eq!(
            bytes(&ours),
            bytes(&theirs),
            "the same proof as ark-groth16's"
        );
        assert!(Groth16::<E>::verify_proof(&pvk, &ours, &inputs).expect("verifies"));
        let mut wrong = inputs.clone();
        wrong[1] += E::ScalarField::from(1u64);
        assert!(!Groth16::<E>::verify_proof(&pvk, &ours, &wrong).expect("verifies"));
    }
    // A longer chain is a different circuit: the shaped key refuses it, naming the counts.
    let longer = PoseidonChain::new(chain.start, chain.links + 1);
    match prove(offload, &shaped, longer, rs[0].0, rs[0].1) {
        Err(e @ offload_prover::ProverError::Shape { .. }) => {
            assert!(e.to_string().contains("constraints"), "{e}")
        }
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("a proof for another circuit's key"),
    }
}

#[test]
fn bn254_in_process_equals_ark_groth16_and_verifies() {
    proves_as_ark_does::<ark_bn254::Bn254>(&Offload::local(), 1 << 10, 1);
}

#[test]
fn bls12_381_in_process_equals_ark_groth16_and_verifies() {
    proves_as_ark_does::<ark_bls12_381::Bls12_381>(&Offload::local(), 1 << 10, 2);
}

#[test]
fn through_a_daemon_on_a_unix_socket() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sock = dir.path().join("offload.sock");
    let config = offload_daemon::Config {
        uds: Some(sock.clone()),
        metrics_listen: "127.0.0.1:0".into(),
        max_message_bytes: 64 << 20,
        shm_dir: Some(dir.path().join("shm")),
        ..offload_daemon::Config::ephemeral(dir.path())
    };
    // The daemon runs on a runtime of its own; the prover blocks on its client's.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let running = rt
        .block_on(offload_daemon::serve(config))
        .expect("daemon starts");
    let offload = Offload::connect(
        &format!("unix:{}", sock.display()),
        &offload_client::ConnectOptions::default(),
    )
    .expect("connects");
    proves_as_ark_does::<ark_bn254::Bn254>(&offload, 1 << 10, 3);
    proves_as_ark_does::<ark_bls12_381::Bls12_381>(&offload, 1 << 9, 4);
    drop(offload);

    // Scalars and columns through the daemon's shared-memory directory: the same proofs, and
    // nothing left behind there.
    let shm = dir.path().join("shm");
    let through = |shm_dir: &std::path::Path| {
        Offload::connect(
            &format!("unix:{}", sock.display()),
            &offload_client::ConnectOptions {
                shm_dir: Some(shm_dir.to_path_buf()),
                ..Default::default()
            },
        )
        .expect("connects")
    };
    proves_as_ark_does::<ark_bn254::Bn254>(&through(&shm), 1 << 10, 5);
    let left: Vec<_> = std::fs::read_dir(&shm).expect("shm dir").collect();
    assert!(left.is_empty(), "staged files left behind: {left:?}");
    // A directory the daemon does not read from: the payloads really went by file, so the
    // daemon finds none and says which field.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    let offload = through(&elsewhere);
    let err = offload
        .fft::<ark_bn254::Fr>(
            &offload_engine::ntt::NttConfig::forward(),
            &mut [vec![ark_bn254::Fr::from(1u64); 8]],
        )
        .expect_err("no such file in the daemon's directory");
    assert!(err.to_string().contains("columns[0]"), "{err}");
    rt.block_on(running.stop()).expect("stops");
}

#[test]
fn the_chain_has_the_size_asked_for() {
    let per = offload_prover::circuits::constraints_per_link::<ark_bn254::Fr>();
    assert!((150..600).contains(&per), "{per} constraints a link");
    let chain =
        PoseidonChain::<ark_bn254::Fr>::with_constraints(ark_bn254::Fr::from(7u64), 1 << 12);
    assert_eq!(chain.links, (1 << 12) / per);
    // The public end is the native hash chain's.
    let one = PoseidonChain::<ark_bn254::Fr>::new(ark_bn254::Fr::from(7u64), 1);
    assert_ne!(one.end(), ark_bn254::Fr::from(7u64));
    let _ = <ark_bn254::Bn254 as Pairing>::ScalarField::zero();
}
