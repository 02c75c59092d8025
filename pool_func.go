package ants

import (
	"context"
	"time"
)

// PoolWithFunc runs one function, bound at creation, on the arguments given
// to Invoke, on a bounded set of reused worker goroutines. It is a Pool
// whose task is always that function: capacity, waiting, expiry, panics and
// release work exactly as they do for Pool.
//
// All methods are safe for concurrent use. The zero PoolWithFunc is not
// usable; create one with NewPoolWithFunc. It must not be copied.
type PoolWithFunc struct {
	core[any]
}

// NewPoolWithFunc returns a pool of at most size workers that runs pf.
// A size <= 0 means no limit. It returns ErrLackPoolFunc for a nil pf, and
// the errors of NewPool for bad options.
func NewPoolWithFunc(size int, pf func(any), options ...Option) (*PoolWithFunc, error) {
	if pf == nil {
		return nil, ErrLackPoolFunc
	}
	p := new(PoolWithFunc)
	if err := p.init(size, bind(pf), options); err != nil {
		return nil, err
	}
	return p, nil
}

// Invoke runs the pool's function with arg on a worker, waiting for one as
// Pool.Submit does. A nil arg is passed on as nil. Invoke returns nil once
// a worker (or, in queue mode, the queue) has accepted arg, or else
// ErrPoolClosed or ErrPoolOverload, and the function does not run.
func (p *PoolWithFunc) Invoke(arg any) error { return invoke(&p.core, arg) }

// TryInvoke runs the pool's function with arg on a worker if one is free,
// or can be started, right now, or, in queue mode, queues arg if the queue
// has room; it never waits. It returns nil once arg is accepted, or else,
// and the function does not run, ErrPoolOverload when the pool is busy
// and at capacity (and the queue full), or ErrPoolClosed after Release. A nil arg is passed on as nil, as with Invoke.
func (p *PoolWithFunc) TryInvoke(arg any) error { return tryInvoke(&p.core, arg) }

// InvokeCtx is Invoke with the wait for a worker bounded by ctx, as in
// Pool.SubmitCtx. ctx bounds admission only: the function does not see it.
// It returns ctx.Err() if ctx is done before arg is accepted (already
// done included), and ErrNilContext for a nil ctx.
func (p *PoolWithFunc) InvokeCtx(ctx context.Context, arg any) error {
	return invokeCtx(&p.core, ctx, arg)
}

// PoolWithFuncGeneric is PoolWithFunc for arguments of type T: the argument
// is handed to the worker without boxing, so Invoke does not allocate once
// the pool's workers are started.
//
// All methods are safe for concurrent use. The zero PoolWithFuncGeneric is
// not usable; create one with NewPoolWithFuncGeneric. It must not be copied.
type PoolWithFuncGeneric[T any] struct {
	core[T]
}

// NewPoolWithFuncGeneric returns a pool of at most size workers that runs
// pf. A size <= 0 means no limit. It returns ErrLackPoolFunc for a nil pf,
// and the errors of NewPool for bad options.
func NewPoolWithFuncGeneric[T any](size int, pf func(T), options ...Option) (*PoolWithFuncGeneric[T], error) {
	if pf == nil {
		return nil, ErrLackPoolFunc
	}
	p := new(PoolWithFuncGeneric[T])
	if err := p.init(size, bind(pf), options); err != nil {
		return nil, err
	}
	return p, nil
}

// Invoke runs the pool's function with arg on a worker, waiting for one as
// Pool.Submit does. It returns nil once a worker (or, in queue mode, the
// queue) has accepted arg, or else ErrPoolClosed or ErrPoolOverload, and
// the function does not run.
func (p *PoolWithFuncGeneric[T]) Invoke(arg T) error { return invoke(&p.core, arg) }

// TryInvoke runs the pool's function with arg on a worker if one is free,
// or can be started, right now, or, in queue mode, queues arg if the queue
// has room; it never waits. It returns nil once arg is accepted, or else,
// and the function does not run, ErrPoolOverload when the pool is busy
// and at capacity (and the queue full), or ErrPoolClosed after Release. Like Invoke, it does not allocate.
func (p *PoolWithFuncGeneric[T]) TryInvoke(arg T) error { return tryInvoke(&p.core, arg) }

// InvokeCtx is Invoke with the wait for a worker bounded by ctx, as in
// Pool.SubmitCtx. ctx bounds admission only: the function does not see it.
// It returns ctx.Err() if ctx is done before arg is accepted (already
// done included), and ErrNilContext for a nil ctx.
func (p *PoolWithFuncGeneric[T]) InvokeCtx(ctx context.Context, arg T) error {
	return invokeCtx(&p.core, ctx, arg)
}

// bind returns what the workers of a func pool call with an argument: pf,
// whose panics the worker recovers; nil for a nil pf.
func bind[T any](pf func(T)) func(T, time.Duration) outcome {
	if pf == nil {
		return nil
	}
	return func(arg T, _ time.Duration) outcome { pf(arg); return ran }
}
